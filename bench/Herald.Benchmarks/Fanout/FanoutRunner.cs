using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Herald.Benchmarks.Fanout;

/// <summary>
/// Runs every system in every mode, each run in a fresh process, several runs each; reports medians and min-max,
/// the ratios the targets are stated in, a CSV, and docs/benchmarks.md.
/// </summary>
public static class FanoutRunner
{
    private const int PacedRate = 100_000;
    private const string Begin = "<!-- fanout:begin (written by the fanout command; edit outside these markers) -->";
    private const string End = "<!-- fanout:end -->";

    public static async Task<int> RunAsync(bool quick, string? csvPath, int runs, string[] only)
    {
        string[] unknown = [.. only.Where(o => !SystemCatalog.All.Any(s => s.Name == o))];
        if (unknown.Length > 0)
        {
            await Console.Error.WriteLineAsync($"Unknown system(s) for --only: {string.Join(", ", unknown)}. Known: {string.Join(", ", SystemCatalog.All.Select(s => s.Name))}.");
            return 2;
        }

        // Paced p99 counts the events caught in scheduler stalls (~4 ms on this 2-core VM): in a 1 s run the raw channels'
        // own p99 ranged from 0.03 to 3.7 ms, so a ratio of two such figures said more about which second had a stall
        // than about the systems. Two seconds keep the quick mode quick and make a stall-free second the exception.
        int pacedSeconds = quick ? 2 : 5;
        var results = new List<FanoutResult>();
        string command = ReportSection.Command("fanout", quick, runs) + (csvPath is null ? string.Empty : $" --csv {csvPath}") + (only.Length == 0 ? string.Empty : $" --only {string.Join(',', only)}");
        foreach (string mode in new[] { "burst", "paced" })
        {
            // Interleaved: each round runs every system once, so a system and its reference share the machine's slow
            // and fast moments (single processes here are bimodal; a block of runs of one system can catch either).
            for (int run = 1; run <= runs; run++)
            {
                foreach ((string name, int burstEvents, _) in SystemCatalog.All.Where(s => only.Length == 0 || only.Contains(s.Name)))
                {
                    int events = mode == "burst" ? (quick ? burstEvents / 10 : burstEvents) : PacedRate * pacedSeconds;
                    FanoutResult r = await RunChildAsync(name, mode, events);
                    results.Add(r);
                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{mode,-6} {name,-20} run {run}/{runs}: {r.EventsPerSecond,12:N0} ev/s  p50 {r.P50Us,9:N1} µs  p99 {r.P99Us,10:N1} µs  p99.9 {r.P999Us,10:N1} µs  {r.BytesPerEvent,8:N0} B/ev  lost {r.Lost}  dup {r.Duplicates}{(r.Error is null ? string.Empty : "  " + r.Error)}"));
                }
            }
        }

        List<Summary> summaries = [.. results.GroupBy(r => (r.System, r.Mode)).Select(g => Summary.Of(g.Key.System, g.Key.Mode, [.. g]))];
        if (csvPath is not null)
        {
            await File.WriteAllTextAsync(csvPath, Csv(summaries));
            Console.WriteLine($"wrote {csvPath}");
        }

        string report = Report(summaries, command, runs, quick, pacedSeconds);
        await ReportSection.WriteAsync(Begin, End, report, quick);

        Console.WriteLine();
        Console.WriteLine(report);
        return summaries.Any(s => s.Lost > 0 || s.Duplicates > 0) ? 1 : 0;
    }

    private static async Task<FanoutResult> RunChildAsync(string system, string mode, int events)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Without this the runtime waits 100 ms of quiet before it counts calls for tier-1, longer than a quick
        // run's warm-up: short runs would measure tier-0 code, the more so the more code a system runs per event.
        start.Environment["DOTNET_TC_CallCountingDelayMs"] = "0";
        foreach (string arg in new[] { "worker", system, mode, events.ToString(CultureInfo.InvariantCulture), PacedRate.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return Failed(system, mode, events, "worker did not finish within 5 minutes");
        }

        string? line = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        return line is null
            ? Failed(system, mode, events, $"worker exited {process.ExitCode}: {(await stderr).Trim().Split('\n').FirstOrDefault()}")
            : JsonSerializer.Deserialize<FanoutResult>(line, FanoutJson.Options)!;
    }

    private static FanoutResult Failed(string system, string mode, int events, string error) =>
        new(system, mode, events, 0, 0, double.NaN, double.NaN, double.NaN, double.NaN, Probe.Subscribers * (long)events, 0, error);

    private static string Csv(List<Summary> summaries)
    {
        var csv = new StringBuilder("system,mode,events_per_sec,p50_us,p99_us,p999_us,bytes_per_event,lost\n");
        foreach (Summary s in summaries)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{s.System},{s.Mode},{s.EventsPerSecond:F0},{s.P50:F1},{s.P99:F1},{s.P999:F1},{s.Bytes:F0},{s.Lost}\n");
        }

        return csv.ToString();
    }

    private static string Report(List<Summary> summaries, string command, int runs, bool quick, int pacedSeconds)
    {
        StringBuilder md = ReportSection.Start(
            Begin,
            $"Side-by-side fan-out{(quick ? " (quick mode)" : string.Empty)}",
            command,
            string.Empty,
            string.Create(CultureInfo.InvariantCulture, $"every run is a fresh process (a warm-up instance of half the events, at most 50,000, in the same mode, then a measured one, both publishing from a thread-pool thread as an async application does; tiering's call-counting delay off, for every system); {runs} rounds per mode, each running every system once (interleaved); medians, with min-max of events/s. 3 subscribers doing trivial work (record the latency); latency is publish timestamp (carried in the event) to handler; bytes are all allocations in the process during the run divided by events (the event object itself is 40 B)."));
        foreach (string mode in new[] { "burst", "paced" })
        {
            md.AppendLine(mode == "burst"
                ? "### Burst: publish as fast as possible, until every subscriber has every event"
                : $"### Paced: {PacedRate:N0} events/s for {pacedSeconds} s (latency from each event's due time)");
            md.AppendLine();
            md.AppendLine("| system | events | events/s (median) | min-max | p50 µs | p99 µs | p99.9 µs | B/event | lost | dup |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (Summary s in summaries.Where(s => s.Mode == mode))
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {s.System} | {s.Events:N0} | {s.EventsPerSecond:N0} | {s.Min:N0}-{s.Max:N0} | {s.P50:N1} | {s.P99:N1} | {s.P999:N1} | {s.Bytes:N0} | {s.Lost} | {s.Duplicates} |{(s.Error is null ? string.Empty : " " + s.Error)}");
            }

            md.AppendLine();
        }

        md.AppendLine("### Targets (ratios within this run)");
        md.AppendLine();
        md.AppendLine("| target | measured | met |");
        md.AppendLine("|---|---:|:---:|");
        Summary? Get(string system, string mode) => summaries.FirstOrDefault(s => s.System == system && s.Mode == mode);
        // A ratio of two systems' figures in this run; null when either is missing or not a number.
        static double? RatioOf(Summary? a, Summary? b, Func<Summary, double> value) =>
            a is null || b is null || value(b) == 0 || double.IsNaN(value(a)) || double.IsNaN(value(b)) ? null : value(a) / value(b);

        void Ratio(string target, Summary? a, Summary? b, Func<Summary, double> value, double bound, bool atLeast)
        {
            if (RatioOf(a, b, value) is not { } ratio)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {target} | n/a | - |");
                return;
            }

            bool met = atLeast ? ratio >= bound : ratio <= bound;
            md.AppendLine(CultureInfo.InvariantCulture, $"| {target} | {ratio:0.00}x | {(met ? "yes" : "**no**")} |");
        }

        void Control(string label, Summary? a, Summary? b, Func<Summary, double> value)
        {
            if (RatioOf(a, b, value) is { } ratio)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {label} | {ratio:0.00}x | - |");
            }
        }

        Ratio("burst, pull: >= 0.70x raw bounded channels (fastest form)", Get("herald-pull", "burst"), Get("channels-bounded-fast", "burst"), s => s.EventsPerSecond, 0.70, atLeast: true);
        Ratio("burst, pull: >= 0.70x raw bounded channels (default options)", Get("herald-pull", "burst"), Get("channels-bounded", "burst"), s => s.EventsPerSecond, 0.70, atLeast: true);
        Ratio("burst, handlers on a default host: >= 0.50x raw bounded channels (fastest form)", Get("herald-handlers-host", "burst"), Get("channels-bounded-fast", "burst"), s => s.EventsPerSecond, 0.50, atLeast: true);
        Ratio("burst, handlers on a default host: >= 0.50x raw bounded channels (default options)", Get("herald-handlers-host", "burst"), Get("channels-bounded", "burst"), s => s.EventsPerSecond, 0.50, atLeast: true);
        Ratio("burst, handlers on a bare collection: >= 0.50x raw bounded channels (fastest form)", Get("herald-handlers", "burst"), Get("channels-bounded-fast", "burst"), s => s.EventsPerSecond, 0.50, atLeast: true);
        Ratio("burst, handlers, host with console at warning: >= 5x Wolverine local on the same host", Get("herald-handlers-host-warn", "burst"), Get("wolverine", "burst"), s => s.EventsPerSecond, 5, atLeast: true);
        Ratio("paced, handlers on a default host: p99 <= 1.5x Herald pull's", Get("herald-handlers-host", "paced"), Get("herald-pull", "paced"), s => s.P99, 1.5, atLeast: false);
        Ratio("burst, pull: >= 10x Wolverine local", Get("herald-pull", "burst"), Get("wolverine", "burst"), s => s.EventsPerSecond, 10, atLeast: true);
        Ratio("burst, pull: >= 50x MassTransit in-memory", Get("herald-pull", "burst"), Get("masstransit", "burst"), s => s.EventsPerSecond, 50, atLeast: true);
        Ratio("paced, pull: p99 <= 1.5x raw bounded", Get("herald-pull", "paced"), Get("channels-bounded", "paced"), s => s.P99, 1.5, atLeast: false);
        Ratio("paced, pull: p99.9 <= 2x raw bounded", Get("herald-pull", "paced"), Get("channels-bounded", "paced"), s => s.P999, 2.0, atLeast: false);
        Summary? pull = Get("herald-pull", "burst");

        md.AppendLine(CultureInfo.InvariantCulture, $"| pull path: <= 128 B/event beyond the 40 B event | {(pull is null ? "n/a" : $"{pull.Bytes - 40:N0} B")} | {(pull is not null && pull.Bytes - 40 <= 128 ? "yes" : "**no**")} |");
        Summary? hosted = Get("herald-handlers-host", "burst");
        md.AppendLine(CultureInfo.InvariantCulture, $"| handlers on a default host: <= 256 B/event beyond the 40 B event | {(hosted is null ? "n/a" : $"{hosted.Bytes - 40:N0} B")} | {(hosted is not null && hosted.Bytes - 40 <= 256 ? "yes" : "**no**")} |");
        bool clean = summaries.Where(s => s.System.StartsWith("herald", StringComparison.Ordinal)).All(s => s.Lost == 0 && s.Duplicates == 0);
        md.AppendLine(CultureInfo.InvariantCulture, $"| Herald: no run loses or duplicates an event | {summaries.Where(s => s.System.StartsWith("herald", StringComparison.Ordinal)).Sum(s => s.Lost + s.Duplicates)} | {(clean ? "yes" : "**no**")} |");

        // Not targets: the same raw channels measured twice. Two equal systems differ by this much in this run, so a
        // target ratio within this distance of its bound says more about the machine than about the systems.
        Control("control, not a target: raw bounded / raw bounded again, burst events/s", Get("channels-bounded", "burst"), Get("channels-bounded-again", "burst"), s => s.EventsPerSecond);
        Control("control, not a target: raw bounded / raw bounded again, paced p99", Get("channels-bounded", "paced"), Get("channels-bounded-again", "paced"), s => s.P99);
        Control("control, not a target: raw bounded / raw bounded again, paced p99.9", Get("channels-bounded", "paced"), Get("channels-bounded-again", "paced"), s => s.P999);
        md.Append(End);
        return md.ToString();
    }

    internal static string CpuModel()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    internal static string? FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    private sealed record Summary(string System, string Mode, int Events, double EventsPerSecond, double Min, double Max, double P50, double P99, double P999, double Bytes, long Lost, long Duplicates, string? Error)
    {
        public static Summary Of(string system, string mode, List<FanoutResult> runs) => new(
            system,
            mode,
            runs[0].Events,
            Median(runs.Select(r => r.EventsPerSecond)),
            runs.Min(r => r.EventsPerSecond),
            runs.Max(r => r.EventsPerSecond),
            Median(runs.Select(r => r.P50Us)),
            Median(runs.Select(r => r.P99Us)),
            Median(runs.Select(r => r.P999Us)),
            Median(runs.Select(r => r.BytesPerEvent)),
            runs.Max(r => r.Lost),
            runs.Max(r => r.Duplicates),
            runs.Select(r => r.Error).FirstOrDefault(e => e is not null));

        private static double Median(IEnumerable<double> values)
        {
            double[] sorted = [.. values.Order()];
            return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }
}
