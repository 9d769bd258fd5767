using System.Diagnostics;

namespace Registration;

/// <summary>Publish-to-handler latencies of one subscriber (Stopwatch ticks carried in a side table by event id).</summary>
public sealed class LatencyRecorder(int capacity)
{
    private readonly long[] _ticks = new long[capacity];
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Record(long publishedTimestamp)
    {
        int slot = Interlocked.Increment(ref _count) - 1;
        if (slot < _ticks.Length)
        {
            _ticks[slot] = Stopwatch.GetTimestamp() - publishedTimestamp;
        }
    }

    public double PercentileMicroseconds(double percentile)
    {
        int n = Math.Min(Count, _ticks.Length);
        if (n == 0)
        {
            return double.NaN;
        }

        long[] sorted = _ticks[..n];
        Array.Sort(sorted);
        long ticks = sorted[Math.Min(n - 1, (int)Math.Ceiling(percentile / 100.0 * n) - 1)];
        return ticks * 1_000_000.0 / Stopwatch.Frequency;
    }
}
