using System.Diagnostics;

namespace Registration;

/// <summary>Publish timestamps by user id, and a latency recorder per handler.</summary>
public sealed class Latencies(long first, int count)
{
    private readonly long[] _publishedAt = new long[count];
    private readonly Dictionary<string, LatencyRecorder> _byHandler = new(StringComparer.Ordinal);

    public int Count => count;

    public void Published(long userId) => _publishedAt[userId - first] = Stopwatch.GetTimestamp();

    public void Handled(string handler, long userId)
    {
        long i = userId - first;
        if (i >= 0 && i < count && _publishedAt[i] != 0)
        {
            For(handler).Record(_publishedAt[i]); // users of an earlier, interrupted run have no publish time here
        }
    }

    public LatencyRecorder For(string handler)
    {
        lock (_byHandler)
        {
            if (!_byHandler.TryGetValue(handler, out LatencyRecorder? recorder))
            {
                _byHandler[handler] = recorder = new LatencyRecorder(count);
            }

            return recorder;
        }
    }
}
