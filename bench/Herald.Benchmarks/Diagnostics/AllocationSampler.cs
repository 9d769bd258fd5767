using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace Herald.Benchmarks.Diagnostics;

/// <summary>
/// For profiling, not for reports: with HERALD_BENCH_ALLOCATIONS=1 the durable command listens, during each measured
/// run, to the runtime's allocation ticks (one every ~100 KB allocated, naming the type that crossed it) and prints
/// the types that allocated most, as shares of the samples. Sampling, so only the large shares mean anything.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();

    /// <summary>A sampler when HERALD_BENCH_ALLOCATIONS=1, else null.</summary>
    public static AllocationSampler? FromEnvironment() =>
        Environment.GetEnvironmentVariable("HERALD_BENCH_ALLOCATIONS") == "1" ? new AllocationSampler() : null;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1 /* GC */);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName != "GCAllocationTick_V4" || e.Payload is null || e.PayloadNames is null)
        {
            return;
        }

        int type = e.PayloadNames.IndexOf("TypeName");
        int amount = e.PayloadNames.IndexOf("AllocationAmount64");
        if (type < 0 || amount < 0)
        {
            return;
        }

        string name = e.Payload[type] as string ?? "?";
        long bytes = Convert.ToInt64(e.Payload[amount], CultureInfo.InvariantCulture);
        _bytes.AddOrUpdate(name, bytes, (_, b) => b + bytes);
    }

    /// <summary>Prints the top <paramref name="count"/> types by sampled bytes and forgets them.</summary>
    public void Print(string title, int count = 25)
    {
        var top = _bytes.ToArray().OrderByDescending(p => p.Value).ToList();
        long total = top.Sum(p => p.Value);
        Console.WriteLine($"allocations sampled in {title}: {total / 1024 / 1024:N0} MB");
        foreach ((string name, long bytes) in top.Take(count))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {100.0 * bytes / total,5:N1}%  {name}"));
        }

        _bytes.Clear();
    }
}
