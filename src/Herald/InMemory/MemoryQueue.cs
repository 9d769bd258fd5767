using System.Numerics;
using Herald.Diagnostics;
using Herald.Transport;

namespace Herald.InMemory;

/// <summary>
/// One in-memory subscription: a bounded ring per lane (<see cref="BoundedRing{T}"/>), the overflow policy, and the
/// counters. Nothing on the hot path locks: a write or a read is one compare-and-swap on the lane's position.
/// </summary>
internal sealed class MemoryQueue : IConsumer
{
    private readonly BoundedRing<Envelope>[] _lanes;
    private readonly BusTelemetry _telemetry;
    private readonly Action<MemoryQueue> _onDisposed;
    private readonly AsyncSignal? _anyLane;
    private readonly System.Collections.Concurrent.ConcurrentQueue<Envelope> _spill = new();
    private volatile int _spillCount;
    private long _spilled;
    private readonly ReaderCounter _delivered = new();
    private long _droppedOldest;
    private long _droppedNewest;
    private long _droppedDisposed;
    private long _droppedWrongType;
    private long _rejected;
    private long _timedOut;
    private int _nextLane;
    private int _readCursor;
    private volatile bool _disposed;

    public MemoryQueue(ConsumerSpec spec, BusTelemetry telemetry, Action<MemoryQueue> onDisposed)
    {
        Spec = spec;
        _telemetry = telemetry;
        _onDisposed = onDisposed;
        _lanes = new BoundedRing<Envelope>[spec.Lanes];

        // DropNewest means "drop the event arriving".
        RingFullMode mode = spec.Overflow switch
        {
            Overflow.DropOldest => RingFullMode.DropOldest,
            Overflow.DropNewest => RingFullMode.DropWrite,
            _ => RingFullMode.Wait,
        };
        Action<Envelope>? onDropped = spec.Overflow switch
        {
            Overflow.DropOldest => e => CountDrop(ref _droppedOldest, DropReason.Oldest, e),
            Overflow.DropNewest => e => CountDrop(ref _droppedNewest, DropReason.Newest, e),
            _ => null,
        };
        for (int i = 0; i < _lanes.Length; i++)
        {
            _lanes[i] = new BoundedRing<Envelope>(spec.Capacity, mode, onDropped);
        }

        _anyLane = spec.Lanes > 1 ? new AsyncSignal() : null;
    }

    public ConsumerSpec Spec { get; }

    public string Name => Spec.Name;

    public int Lanes => _lanes.Length;

    public bool IsDisposed => _disposed;

    public int Queued
    {
        get
        {
            int queued = 0;
            foreach (BoundedRing<Envelope> lane in _lanes)
            {
                queued += lane.Count;
            }

            return queued + _spillCount;
        }
    }

    public SubscriptionStats Stats => new(
        _delivered.Value,
        Queued,
        Interlocked.Read(ref _droppedOldest),
        Interlocked.Read(ref _droppedNewest),
        Interlocked.Read(ref _droppedDisposed),
        Interlocked.Read(ref _droppedWrongType),
        Interlocked.Read(ref _rejected),
        Interlocked.Read(ref _timedOut),
        Interlocked.Read(ref _spilled));

    /// <summary>
    /// Writes without waiting. True when the event is settled for this queue: written, dropped by policy, or counted as
    /// dropped because the queue is gone. False when the queue is full and the policy (Wait, Reject) needs the slow path.
    /// </summary>
    public bool TryWrite(Envelope envelope)
    {
        if (_lanes[PickLane(envelope)].TryWrite(envelope))
        {
            _anyLane?.Ring();
            return true;
        }

        if (_disposed)
        {
            CountDrop(ref _droppedDisposed, DropReason.Disposed, envelope);
            return true;
        }

        return false;
    }

    /// <summary>The slow path of a full Wait or Reject queue.</summary>
    public async ValueTask WriteAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        if (Spec.Overflow == Overflow.Reject)
        {
            Interlocked.Increment(ref _rejected);
            _telemetry.CountRefused(envelope.Type, "rejected");
            Log.PublishRejected(_telemetry.Logger, envelope.Type, Name);
            throw new PublishRejectedException(envelope.Type, Name, Spec.Capacity);
        }

        if (ReferenceEquals(DeliveryLoop.Current.Value, this))
        {
            Spill(envelope);
            return;
        }

        BoundedRing<Envelope> writer = _lanes[PickLane(envelope)];

        // A full queue is usually full for a moment: readers are draining it. Spin a little (yielding the core to
        // them, never sleeping) before arming a timed wait, whose token sources and timer cost far more than the wait.
        var spin = default(SpinWait);
        for (int i = 0; i < 16 && !cancellationToken.IsCancellationRequested; i++)
        {
            spin.SpinOnce(sleep1Threshold: -1);
            if (writer.TryWrite(envelope))
            {
                _anyLane?.Ring();
                return;
            }

            if (_disposed)
            {
                break;
            }
        }

        TimeSpan timeout = _telemetry.PublishTimeout;
        using var timer = new CancellationTokenSource(timeout, _telemetry.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            while (await writer.WaitToWriteAsync(linked.Token).ConfigureAwait(false))
            {
                if (writer.TryWrite(envelope))
                {
                    _anyLane?.Ring();
                    return;
                }
            }

            CountDrop(ref _droppedDisposed, DropReason.Disposed, envelope); // completed while we waited
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _timedOut);
            _telemetry.CountRefused(envelope.Type, "timeout");
            Log.PublishTimedOut(_telemetry.Logger, envelope.Type, timeout.TotalMilliseconds, Name);
            throw new PublishTimeoutException(
                envelope.Type,
                Name,
                timeout,
                $"subscription '{Name}' is full ({Spec.Capacity} queued, overflow Wait) and its reader made no room. "
                + "Read faster, raise the capacity, or choose another overflow policy.");
        }
    }

    public bool TryRead(int lane, out Delivery delivery)
    {
        if (_lanes[lane].TryRead(out Envelope? envelope) || (_spillCount > 0 && TryUnspill(out envelope)))
        {
            delivery = Delivered(envelope);
            return true;
        }

        delivery = default;
        return false;
    }

    public ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken) =>
        _spillCount > 0 ? new ValueTask<bool>(true) : _lanes[lane].WaitToReadAsync(cancellationToken);

    public bool TryPeekOldest([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Envelope? envelope)
    {
        envelope = null;
        foreach (BoundedRing<Envelope> lane in _lanes)
        {
            if (lane.TryPeek(out Envelope? head) && (envelope is null || head.Time < envelope.Time))
            {
                envelope = head;
            }
        }

        return envelope is not null;
    }

    public ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken) =>
        TryWrite(envelope) ? ValueTask.CompletedTask : WriteAsync(envelope, cancellationToken);

    public bool TryReadAny(out Delivery delivery)
    {
        if (_lanes.Length == 1 || _spillCount > 0)
        {
            return TryRead(0, out delivery);
        }

        int start = _readCursor;
        for (int i = 0; i < _lanes.Length; i++)
        {
            int lane = (start + i) % _lanes.Length;
            if (TryRead(lane, out delivery))
            {
                _readCursor = lane + 1; // fairness: next read starts at the following lane
                return true;
            }
        }

        delivery = default;
        return false;
    }

    public ValueTask<bool> WaitToReadAnyAsync(CancellationToken cancellationToken) =>
        _anyLane is null ? WaitToReadAsync(0, cancellationToken) : WaitToReadAnyLaneAsync(cancellationToken);

    public void CountWrongType(Envelope envelope) => CountDrop(ref _droppedWrongType, DropReason.WrongType, envelope);

    public ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken)
    {
        if (kind != SettleKind.Requeue)
        {
            // In memory an acknowledgement has nothing left to release, and a released event is gone with the
            // process (the host counts it as cancelled in its shutdown report).
            return ValueTask.CompletedTask;
        }

        return RedeliverAsync(delivery.Envelope.WithAttempt(delivery.Attempt + 1), cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return ValueTask.CompletedTask;
        }

        _disposed = true;
        _onDisposed(this);
        long left = 0;
        foreach (BoundedRing<Envelope> lane in _lanes)
        {
            lane.Complete();
            while (lane.TryRead(out _))
            {
                left++;
            }
        }

        while (_spill.TryDequeue(out _))
        {
            left++;
        }

        _spillCount = 0;

        _anyLane?.Ring();
        if (left > 0)
        {
            Interlocked.Add(ref _droppedDisposed, left);
            _telemetry.CountDrop(Name, DropReason.Disposed, left);
            Log.DisposedWithQueued(_telemetry.Logger, Name, left);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Spec.Pattern})";

    private async ValueTask<bool> WaitToReadAnyLaneAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            bool anyOpen = false;
            if (_spillCount > 0)
            {
                return true;
            }

            foreach (BoundedRing<Envelope> lane in _lanes)
            {
                if (lane.Count > 0)
                {
                    return true;
                }

                anyOpen |= !lane.IsDrained;
            }

            if (!anyOpen)
            {
                return false;
            }

            await _anyLane!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A re-entrant publish (from this queue's own delivery loop into this full queue) goes past the bound instead of
    /// waiting for room it alone could make: up to one more queue's worth, counted as spilled; beyond that it is refused.
    /// </summary>
    private void Spill(Envelope envelope)
    {
        if (_spillCount >= Spec.Capacity)
        {
            Interlocked.Increment(ref _rejected);
            _telemetry.CountRefused(envelope.Type, "reentrant_spill_full");
            throw new PublishRejectedException(
                $"Publishing '{envelope.Type}' was rejected: it was published from subscription '{Name}''s own handler into its own full queue "
                + $"(a re-entrant publish), and the {Spec.Capacity} events it may spill past the bound are taken. Raise the capacity or publish elsewhere.");
        }

        _spill.Enqueue(envelope);
        Interlocked.Increment(ref _spillCount);
        Interlocked.Increment(ref _spilled);
        _anyLane?.Ring();
    }

    private bool TryUnspill([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Envelope? envelope)
    {
        if (_spill.TryDequeue(out envelope))
        {
            Interlocked.Decrement(ref _spillCount);
            return true;
        }

        return false;
    }

    private Delivery Delivered(Envelope envelope)
    {
        _delivered.Increment();
        if (_telemetry.Delivered.Enabled)
        {
            _telemetry.Delivered.Add(1, _telemetry.BusTag, new("herald.subscription", Name));
        }

        return new Delivery(envelope, this, 0);
    }

    private int PickLane(Envelope envelope)
    {
        if (_lanes.Length == 1)
        {
            return 0;
        }

        return envelope.Subject is { } key
            ? KeyHash.Lane(key, _lanes.Length)
            : (int)((uint)Interlocked.Increment(ref _nextLane) % (uint)_lanes.Length);
    }

    private void CountDrop(ref long counter, DropReason reason, Envelope envelope)
    {
        long total = Interlocked.Increment(ref counter);
        _telemetry.CountDrop(Name, reason);
        if (BitOperations.IsPow2(total))
        {
            // Every drop is counted and metered; the log says so at 1, 2, 4, 8... so a storm cannot flood it.
            Log.Dropped(_telemetry.Logger, Name, BusTelemetry.ReasonName(reason), total, envelope.Type, envelope.Id);
        }
    }
}
