using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Herald.Benchmarks.Fanout;

namespace Herald.Benchmarks;

/// <summary>A generated section of docs/benchmarks.md (quick: benchmarks.quick.md) between two markers: its header, and writing it in place.</summary>
internal static class ReportSection
{
    /// <summary>
    /// Starts a targets table whose ratios are taken within each round (a scenario and its reference ran a minute or
    /// so apart, on the machine as it was then): each row reports the median of the rounds' ratios with their range,
    /// and the ratio of the two medians beside it. Add rows with <see cref="Ratio"/>.
    /// </summary>
    public static void RatioHeader(StringBuilder md)
    {
        md.AppendLine("| target | measured (median of the rounds' ratios) | rounds' range | ratio of the medians | met |");
        md.AppendLine("|---|---:|---:|---:|:---:|");
    }

    /// <summary>A row of the table <see cref="RatioHeader"/> starts: <paramref name="a"/> over <paramref name="b"/>, round by round; nothing when either is missing.</summary>
    /// <param name="md">The report.</param>
    /// <param name="target">What the row states.</param>
    /// <param name="a">The measured scenario's values, one per round.</param>
    /// <param name="b">The reference's values, one per round.</param>
    /// <param name="bound">The least ratio that meets the target; 0 for a row without a target.</param>
    public static void Ratio(StringBuilder md, string target, IReadOnlyList<double>? a, IReadOnlyList<double>? b, double bound)
    {
        if (a is null || b is null || a.Count == 0 || a.Count != b.Count || a.Any(x => !(x > 0)) || b.Any(x => !(x > 0)))
        {
            return;
        }

        double[] ratios = [.. a.Zip(b, (x, y) => x / y).Order()];
        double ratio = ratios[ratios.Length / 2];
        double medians = a.Order().ElementAt(a.Count / 2) / b.Order().ElementAt(b.Count / 2);
        md.AppendLine(CultureInfo.InvariantCulture, $"| {target} | {ratio:0.00}x | {ratios[0]:0.00}x-{ratios[^1]:0.00}x | {medians:0.00}x | {(bound == 0 ? "-" : ratio >= bound ? "yes" : "**no**")} |");
    }

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
        int e = b >= 0 ? existing.IndexOf(end, b, StringComparison.Ordinal) : -1; // the end after the begin: an end marker alone (a lost begin) once duplicated the page
        if (b < 0 != e < 0 || (b < 0 && existing.Contains(end, StringComparison.Ordinal)))
        {
            Console.Error.WriteLine($"{path}: the markers of this report are broken ({marker} at {b}, {end} at {e}); mend them by hand. The report was not written.");
            return;
        }

        string merged = b >= 0 ? existing[..b] + report + existing[(e + end.Length)..] : existing.TrimEnd() + "\n\n" + report + "\n";
        await File.WriteAllTextAsync(path, merged);
        Console.WriteLine($"wrote {path}");
    }
}
