using Herald.Transport;

namespace Herald.Sqlite;

/// <summary>
/// One member of a consumer group in this process: bounded lanes (by key when ordered) that its group reader fills
/// from the log and its delivery loops drain. An acknowledgement moves the group's checkpoint; a release (shutdown)
/// leaves the event unacknowledged so it is read again after a restart.
/// </summary>
internal sealed class SqliteConsumer : IConsumer
{
    private readonly SqliteTransport _transport;
    private readonly GroupReader _reader;
    private readonly DeliveryLanes _lanes;
    private long _wrongType;
    private int _disposed;

    public SqliteConsumer(SqliteTransport transport, GroupReader reader, ConsumerSpec spec)
    {
        _transport = transport;
        _reader = reader;
        Spec = spec;
        _lanes = new DeliveryLanes(spec.Lanes, spec.Capacity);
    }

    public ConsumerSpec Spec { get; }

    public string Name => Spec.Name;

    public int Lanes => _lanes.Count;

    public SubscriptionStats Stats => new(
        _lanes.Delivered,
        _lanes.Queued,
        DroppedOldest: 0,
        DroppedNewest: 0,
        DroppedDisposed: 0,
        Interlocked.Read(ref _wrongType),
        Rejected: 0,
        TimedOut: 0);

    /// <summary>Waits for room in the event's lane (the log is the buffer: a slow consumer slows its reader, never the publishers).</summary>
    public ValueTask EnqueueAsync(Envelope envelope, long position, CancellationToken cancellationToken) =>
        _lanes.WriteAsync(envelope, position, cancellationToken);

    public bool TryRead(int lane, out Delivery delivery) => _lanes.TryRead(lane, this, out delivery);

    public ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken) => _lanes.WaitToReadAsync(lane, cancellationToken);

    public bool TryReadAny(out Delivery delivery) => _lanes.TryReadAny(this, out delivery);

    public ValueTask<bool> WaitToReadAnyAsync(CancellationToken cancellationToken) => _lanes.WaitToReadAnyAsync(cancellationToken);

    public void CountWrongType(Envelope envelope) => Interlocked.Increment(ref _wrongType);

    public bool TryPeekOldest([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Envelope? envelope) => _lanes.TryPeekOldest(out envelope);

    /// <summary>A redrive: appended to the log for this consumer's group only, so it survives a restart too.</summary>
    public ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken) =>
        _transport.AppendAsync(envelope, target: _reader.Group, cancellationToken);

    public bool CanScheduleRedelivery => true;

    /// <summary>A retry stored in the file: moved into the log for this group when due, so it survives a restart.</summary>
    public ValueTask ScheduleRedeliveryAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken) =>
        _transport.ScheduleAsync(envelope, due, _reader.Group, cancellationToken);

    public ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case SettleKind.Ack:
                _reader.Ack(delivery.Tag);
                return ValueTask.CompletedTask;
            case SettleKind.Requeue:
                return EnqueueAsync(delivery.Envelope.WithAttempt(delivery.Attempt + 1), delivery.Tag, cancellationToken);
            default:
                return ValueTask.CompletedTask; // unacknowledged: the checkpoint stays below it, so it is read again after a restart
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _reader.RemoveAsync(this).ConfigureAwait(false);
        _lanes.Complete();
        _transport.Forget(_reader);
    }

    public override string ToString() => $"{Name} ({Spec.Pattern}, group {_reader.Group}, SQLite)";
}
