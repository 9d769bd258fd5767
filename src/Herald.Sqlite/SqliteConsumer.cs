using Herald.Transport;

namespace Herald.Sqlite;

/// <summary>
/// One member of a consumer group in this process: bounded lanes (by key when ordered) that its group reader fills
/// from the log and its delivery loops drain. An acknowledgement moves the group's checkpoint; a release (shutdown)
/// leaves the event unacknowledged so it is read again after a restart.
/// </summary>
internal sealed class SqliteConsumer : LaneConsumer, IRedeliveryScheduler, IConsumerBacklog
{
    private readonly SqliteTransport _transport;
    private readonly GroupReader _reader;
    private int _disposed;

    public SqliteConsumer(SqliteTransport transport, GroupReader reader, ConsumerSpec spec)
        : base(spec)
    {
        _transport = transport;
        _reader = reader;
    }

    /// <summary>Waits for room in the event's lane (the log is the buffer: a slow consumer slows its reader, never the publishers).</summary>
    public ValueTask EnqueueAsync(Envelope envelope, long position, CancellationToken cancellationToken) =>
        Lanes.WriteAsync(envelope, position, cancellationToken);

    /// <summary>What waits for this consumer's group in the log beyond the lanes (see <see cref="GroupReader.Backlog"/>).</summary>
    public long Backlog => _reader.Backlog;

    /// <summary>A redrive: appended to the log for this consumer's group only, so it survives a restart too.</summary>
    public override ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken) =>
        _transport.AppendAsync(envelope, target: _reader.Group, cancellationToken);

    /// <summary>A retry stored in the file: moved into the log for this group when due, so it survives a restart.</summary>
    public ValueTask ScheduleRedeliveryAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken) =>
        _transport.ScheduleAsync(envelope, due, _reader.Group, cancellationToken);

    public override ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken)
    {
        _transport.Database.InboxHints.Forget(Name, delivery.Envelope.Id); // not asked for (a handler without the inbox)
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

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _reader.RemoveAsync(this).ConfigureAwait(false);
        Lanes.Complete();
        _transport.Forget(_reader);
        _transport.Database.InboxHints.ForgetConsumer(Name); // deliveries left in the lanes: read again, looked at again
    }

    public override string ToString() => $"{Name} ({Spec.Pattern}, group {_reader.Group}, SQLite)";
}
