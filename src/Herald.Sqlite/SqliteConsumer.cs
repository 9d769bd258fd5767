using System.Threading.Channels;
using Herald.InMemory;
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
    private readonly Channel<Item>[] _lanes;
    private readonly AsyncSignal? _anyLane;
    private long _delivered;
    private long _wrongType;
    private int _readCursor;
    private int _disposed;

    public SqliteConsumer(SqliteTransport transport, GroupReader reader, ConsumerSpec spec)
    {
        _transport = transport;
        _reader = reader;
        Spec = spec;
        var options = new BoundedChannelOptions(spec.Capacity) { FullMode = BoundedChannelFullMode.Wait, AllowSynchronousContinuations = false };
        _lanes = new Channel<Item>[spec.Lanes];
        for (int i = 0; i < _lanes.Length; i++)
        {
            _lanes[i] = Channel.CreateBounded<Item>(options);
        }

        _anyLane = spec.Lanes > 1 ? new AsyncSignal() : null;
    }

    public ConsumerSpec Spec { get; }

    public string Name => Spec.Name;

    public int Lanes => _lanes.Length;

    public SubscriptionStats Stats => new(
        Interlocked.Read(ref _delivered),
        _lanes.Sum(l => l.Reader.Count),
        DroppedOldest: 0,
        DroppedNewest: 0,
        DroppedDisposed: 0,
        Interlocked.Read(ref _wrongType),
        Rejected: 0,
        TimedOut: 0);

    /// <summary>Waits for room in the event's lane (the log is the buffer: a slow consumer slows its reader, never the publishers).</summary>
    public async ValueTask EnqueueAsync(Envelope envelope, long position, CancellationToken cancellationToken)
    {
        ChannelWriter<Item> lane = _lanes[PickLane(envelope)].Writer;
        var item = new Item(envelope, position);
        if (!lane.TryWrite(item))
        {
            await lane.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }

        _anyLane?.Ring();
    }

    public bool TryRead(int lane, out Delivery delivery)
    {
        if (_lanes[lane].Reader.TryRead(out Item item))
        {
            Interlocked.Increment(ref _delivered);
            delivery = new Delivery(item.Envelope, this, item.Position);
            return true;
        }

        delivery = default;
        return false;
    }

    public ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken) => _lanes[lane].Reader.WaitToReadAsync(cancellationToken);

    public bool TryReadAny(out Delivery delivery)
    {
        int start = _readCursor;
        for (int i = 0; i < _lanes.Length; i++)
        {
            int lane = (start + i) % _lanes.Length;
            if (TryRead(lane, out delivery))
            {
                _readCursor = lane + 1;
                return true;
            }
        }

        delivery = default;
        return false;
    }

    public async ValueTask<bool> WaitToReadAnyAsync(CancellationToken cancellationToken)
    {
        if (_anyLane is null)
        {
            return await WaitToReadAsync(0, cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            bool anyOpen = false;
            foreach (Channel<Item> lane in _lanes)
            {
                if (lane.Reader.TryPeek(out _))
                {
                    return true;
                }

                anyOpen |= !lane.Reader.Completion.IsCompleted;
            }

            if (!anyOpen)
            {
                return false;
            }

            await _anyLane.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void CountWrongType(Envelope envelope) => Interlocked.Increment(ref _wrongType);

    public bool TryPeekOldest([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Envelope? envelope)
    {
        envelope = null;
        foreach (Channel<Item> lane in _lanes)
        {
            if (lane.Reader.TryPeek(out Item head) && (envelope is null || head.Envelope.Time < envelope.Time))
            {
                envelope = head.Envelope;
            }
        }

        return envelope is not null;
    }

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
        foreach (Channel<Item> lane in _lanes)
        {
            lane.Writer.TryComplete();
        }

        _anyLane?.Ring();
        _transport.Forget(_reader);
    }

    public override string ToString() => $"{Name} ({Spec.Pattern}, group {_reader.Group}, SQLite)";

    private int PickLane(Envelope envelope) =>
        _lanes.Length == 1 || envelope.Subject is not { } key ? 0 : (int)(MemoryQueue.StableHash(key) % (uint)_lanes.Length);

    private readonly record struct Item(Envelope Envelope, long Position);
}
