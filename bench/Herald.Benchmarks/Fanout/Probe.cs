using System.Diagnostics;

namespace Herald.Benchmarks.Fanout;

/// <summary>
/// What the three subscribers saw: a latency sample per delivery (publish timestamp to handler), a seen-bit per
/// event id per subscriber (duplicates), and a completion when every subscriber has every event.
/// </summary>
public sealed class Probe
{
    public const int Subscribers = 3;

    private readonly long[][] _latencies = new long[Subscribers][];
    private readonly long[][] _seen = new long[Subscribers][];
    private readonly int[] _counts = new int[Subscribers];
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _complete;
    private long _duplicates;

    public Probe(int events)
    {
        Events = events;
        for (int s = 0; s < Subscribers; s++)
        {
            _latencies[s] = new long[events];
            _seen[s] = new long[(events / 64) + 1];
        }
    }

    public int Events { get; }

    public Task Done => _done.Task;

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Received => _counts.Sum(c => (long)Volatile.Read(ref c));

    public void Record(int subscriber, UserCreated e)
    {
        long now = Stopwatch.GetTimestamp();
        long bit = 1L << (int)(e.Id & 63);
        if ((Interlocked.Or(ref _seen[subscriber][e.Id >> 6], bit) & bit) != 0)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        int slot = Interlocked.Increment(ref _counts[subscriber]) - 1;
        _latencies[subscriber][slot] = now - e.PublishedAt;
        if (slot + 1 == Events && Interlocked.Increment(ref _complete) == Subscribers)
        {
            _done.TrySetResult();
        }
    }

    /// <summary>Latency percentiles in microseconds over every delivery received.</summary>
    public (double P50, double P99, double P999) Percentiles()
    {
        var all = new List<long>(Subscribers * Events);
        for (int s = 0; s < Subscribers; s++)
        {
            all.AddRange(_latencies[s].AsSpan(0, Volatile.Read(ref _counts[s])));
        }

        if (all.Count == 0)
        {
            return (double.NaN, double.NaN, double.NaN);
        }

        if (Environment.GetEnvironmentVariable("HERALD_BENCH_SERIES") is { } path)
        {
            // For diagnosis: each subscriber's latencies in µs, in arrival order, one line per subscriber.
            using var w = new StreamWriter(path);
            for (int s = 0; s < Subscribers; s++)
            {
                w.WriteLine(string.Join(' ', _latencies[s].AsSpan(0, Volatile.Read(ref _counts[s])).ToArray().Select(t => t * 1_000_000 / Stopwatch.Frequency)));
            }
        }

        all.Sort();
        double At(double p) => all[Math.Min(all.Count - 1, (int)Math.Ceiling(p * all.Count) - 1)] * 1_000_000.0 / Stopwatch.Frequency;
        return (At(0.50), At(0.99), At(0.999));
    }
}
