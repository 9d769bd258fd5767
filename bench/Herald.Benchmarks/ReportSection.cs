using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Herald.Benchmarks.Fanout;

namespace Herald.Benchmarks;

/// <summary>A generated section of docs/benchmarks.md (quick: benchmarks.quick.md) between two markers: its header, and writing it in place.</summary>
internal static class ReportSection
{
    /// <summary>
    /// Collects what earlier runs in this process left (disposed hosts, their containers' and serializers' compiled
    /// methods) before a measured run, so that it is not collected during one: a profile of the durable benchmark
    /// showed the finalizer thread busy with the dynamic methods of disposed hosts, a cost of running many hosts in one
    /// benchmark process that a service with one host never pays and a raw reference without a host escapes.
    /// </summary>
    public static void Quiesce()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        GC.Collect();
    }

    /// <summary>The command that re-runs a report: the benchmark project's <paramref name="verb"/>, with --quick and --runs when they differ from the defaults.</summary>
    public static string Command(string verb, bool quick, int runs) =>
        $"dotnet run -c Release --project bench/Herald.Benchmarks -- {verb}" + (quick ? " --quick" : string.Empty)
        + (runs == 3 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" --runs {runs}"));

    /// <summary>Starts a section: the begin marker, the title, the command, the date, the machine and the method.</summary>
    public static StringBuilder Start(string begin, string title, string command, string machine, string method)
    {
        var md = new StringBuilder();
        md.AppendLine(begin);
        md.AppendLine(CultureInfo.InvariantCulture, $"## {title}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- command: `{command}`");
        md.AppendLine(CultureInfo.InvariantCulture, $"- date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine(CultureInfo.InvariantCulture, $"- machine: {Environment.ProcessorCount} cores, {FanoutRunner.CpuModel()}, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}{machine}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- method: {method}");
        md.AppendLine();
        return md;
    }

    /// <summary>Replaces the section between <paramref name="begin"/> and <paramref name="end"/> in the page, or appends it.</summary>
    public static async Task WriteAsync(string begin, string end, string report, bool quick)
    {
        string? root = FanoutRunner.FindRepositoryRoot();
        if (root is null)
        {
            return;
        }

        string path = Path.Combine(root, "docs", quick ? "benchmarks.quick.md" : "benchmarks.md");
        string existing = File.Exists(path) ? await File.ReadAllTextAsync(path) : "# Benchmarks\n";
        string marker = begin[..begin.IndexOf(' ', "<!-- ".Length)]; // "<!-- name:begin"
        int b = existing.IndexOf(marker, StringComparison.Ordinal);
        int e = existing.IndexOf(end, StringComparison.Ordinal);
        string merged = b >= 0 && e >= 0 ? existing[..b] + report + existing[(e + end.Length)..] : existing.TrimEnd() + "\n\n" + report + "\n";
        await File.WriteAllTextAsync(path, merged);
        Console.WriteLine($"wrote {path}");
    }
}
