using System.Collections.Concurrent;
using System.Diagnostics;

namespace Herald.Dashboard.Systems;

/// <summary>
/// Listens to Herald's <c>process</c> activities (one per delivery, with the event id, handler, attempts and outcome)
/// and keeps, for the newest events, what each handler did, plus the handler latencies since the last reading.
/// Listening makes Herald create those activities: a cost paid only while a dashboard runs in the process.
/// </summary>
internal sealed class DeliveryRecorder : IDisposable
{
    private readonly int _capacity;
    private readonly ActivityListener _listener;
    private readonly ConcurrentDictionary<string, List<DeliveryView>> _byEvent = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly ConcurrentQueue<double> _latencies = new();
    private long _handled;

    public DeliveryRecorder(int capacity)
    {
        _capacity = capacity;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Herald",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = Record,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public long Handled => Interlocked.Read(ref _handled);

    public IReadOnlyList<DeliveryView> For(string eventId)
    {
        if (!_byEvent.TryGetValue(eventId, out List<DeliveryView>? list))
        {
            return [];
        }

        lock (list)
        {
            return [.. list];
        }
    }

    /// <summary>The latencies recorded since the last call, in milliseconds.</summary>
    public IReadOnlyList<double> DrainLatencies()
    {
        var drained = new List<double>();
        while (_latencies.TryDequeue(out double ms))
        {
            drained.Add(ms);
        }

        return drained;
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Activity activity)
    {
        if (activity.GetTagItem("herald.handler") is not string handler || activity.GetTagItem("messaging.message.id") is not string id)
        {
            return;
        }

        string outcome = activity.GetTagItem("herald.outcome") as string ?? "Unknown";
        int? attempts = activity.GetTagItem("herald.attempts") is int a ? a : null;
        if (outcome == nameof(DeliveryOutcome.Handled))
        {
            Interlocked.Increment(ref _handled);
        }

        if (_latencies.Count < 100_000)
        {
            _latencies.Enqueue(activity.Duration.TotalMilliseconds);
        }

        List<DeliveryView> list = _byEvent.GetOrAdd(id, key =>
        {
            _order.Enqueue(key);
            return [];
        });
        lock (list)
        {
            list.Add(new DeliveryView(handler, outcome, attempts, activity.GetTagItem("error.type") as string));
        }

        while (_order.Count > _capacity && _order.TryDequeue(out string? old))
        {
            _byEvent.TryRemove(old, out _);
        }
    }
}
