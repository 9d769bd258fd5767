using Microsoft.Extensions.Logging;

namespace Herald;

/// <summary>
/// Events published with a delay: a priority queue ordered by due time and one timer armed for the earliest, so an
/// idle delayed event costs a queue slot and nothing else (no task or timer per event). Due events are released in
/// due order (publish order for equal times) by one background task.
/// </summary>
internal sealed class DelayedDeliveries : IDisposable
{
    /// <summary>
    /// The longest the timer is armed for at once. A timer cannot wait past ~49.7 days (it threw, after the event was
    /// queued); a far due time is reached in steps instead, re-armed each time the timer fires early.
    /// </summary>
    internal static readonly TimeSpan MaxTimerWait = TimeSpan.FromDays(1);

    private readonly Lock _lock = new();
    private readonly int _capacity;
    private readonly PriorityQueue<Envelope, (DateTimeOffset Due, long Sequence)> _queue = new();
    private readonly TimeProvider _time;
    private readonly HeldReleases _releases;
    private readonly BackgroundWork _background;
    private readonly ITimer _timer;
    private long _sequence;
    private DateTimeOffset? _armedFor;
    private bool _releasing;

    public DelayedDeliveries(TimeProvider time, Func<Envelope, CancellationToken, ValueTask> deliver, BackgroundWork background, ILogger logger, int capacity)
    {
        _capacity = capacity;
        _time = time;
        _releases = new HeldReleases(deliver, logger, static (log, ex, envelope, _) => Diagnostics.Log.DelayedFailed(log, ex, envelope.Id, envelope.Type));
        _background = background;
        _timer = time.CreateTimer(static state => ((DelayedDeliveries)state!).OnDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Delayed events waiting now.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Delayed events that could not be delivered when due (logged one by one).</summary>
    public long Failures => _releases.Failures;

    /// <summary>Delayed events still waiting (or being released) when the bus was disposed.</summary>
    public long DroppedOnDispose => _releases.DroppedOnDispose;

    /// <summary>Holds <paramref name="envelope"/> until <paramref name="due"/>; nothing is held when this throws.</summary>
    /// <exception cref="PublishRejectedException"><see cref="EventBusOptions.DelayedCapacity"/> delayed events wait already.</exception>
    public void Schedule(Envelope envelope, DateTimeOffset due)
    {
        lock (_lock)
        {
            if (_queue.Count >= _capacity)
            {
                throw new PublishRejectedException(
                    $"Publishing '{envelope.Type}' with a delay was rejected: {_capacity} delayed events wait already (EventBusOptions.DelayedCapacity). "
                    + "They are held in memory on this transport: raise the capacity, publish fewer delayed events, or use a transport that stores them (UseSqlite).");
            }

            _queue.Enqueue(envelope, (due, _sequence++));
            if (!_releasing && (_armedFor is null || due < _armedFor))
            {
                ArmLocked(due);
            }
        }
    }

    /// <summary>Counts what is still waiting at disposal, and returns the count.</summary>
    public int DropPending()
    {
        lock (_lock)
        {
            int left = _queue.Count;
            _queue.Clear();
            _releases.CountDropped(left);
            return left;
        }
    }

    public void Dispose() => _timer.Dispose();

    private void ArmLocked(DateTimeOffset due)
    {
        TimeSpan wait = due - _time.GetUtcNow();
        _armedFor = due;
        _timer.Change(wait <= TimeSpan.Zero ? TimeSpan.Zero : wait < MaxTimerWait ? wait : MaxTimerWait, Timeout.InfiniteTimeSpan);
    }

    private void OnDue()
    {
        lock (_lock)
        {
            _armedFor = null;
            if (_releasing)
            {
                return;
            }

            _releasing = true;
        }

        try
        {
            _background.Run(ReleaseAsync);
        }
        catch (ObjectDisposedException)
        {
            // the bus is disposed: what waits is counted by DropPending
        }
    }

    private async Task ReleaseAsync(CancellationToken stopping)
    {
        while (true)
        {
            Envelope? envelope;
            lock (_lock)
            {
                if (!_queue.TryPeek(out envelope, out (DateTimeOffset Due, long Sequence) next) || next.Due > _time.GetUtcNow())
                {
                    _releasing = false;
                    if (envelope is not null)
                    {
                        ArmLocked(next.Due);
                    }

                    return;
                }

                _queue.Dequeue();
            }

            if (!await _releases.DeliverAsync(envelope, from: null, stopping).ConfigureAwait(false))
            {
                return;
            }
        }
    }
}
