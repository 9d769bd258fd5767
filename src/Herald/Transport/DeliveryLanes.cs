using System.Threading.Channels;
using Herald.InMemory;

namespace Herald.Transport;

/// <summary>
/// The local buffer of a consumer whose events come from storage or a broker: bounded lanes (one per key hash when
/// ordered) that the transport's reader fills, waiting when full, and the delivery loops drain. Each item keeps the
/// transport's tag (a stored position, a broker delivery tag) for the acknowledgement.
/// </summary>
internal sealed class DeliveryLanes
{
    private readonly Channel<Item>[] _lanes;
    private readonly AsyncSignal? _anyLane;
    private long _delivered;
    private int _readCursor;

    public DeliveryLanes(int lanes, int capacity)
    {
        var options = new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, AllowSynchronousContinuations = false };
        _lanes = new Channel<Item>[lanes];
        for (int i = 0; i < _lanes.Length; i++)
        {
            _lanes[i] = Channel.CreateBounded<Item>(options);
        }

        _anyLane = lanes > 1 ? new AsyncSignal() : null;
    }

    public int Count => _lanes.Length;

    public long Delivered => Interlocked.Read(ref _delivered);

    public int Queued => _lanes.Sum(l => l.Reader.Count);

    /// <summary>Waits for room in the envelope's lane (by its key).</summary>
    public async ValueTask WriteAsync(Envelope envelope, long tag, CancellationToken cancellationToken)
    {
        ChannelWriter<Item> lane = _lanes[PickLane(envelope)].Writer;
        var item = new Item(envelope, tag);
        if (!lane.TryWrite(item))
        {
            await lane.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }

        _anyLane?.Ring();
    }

    public bool TryRead(int lane, IConsumer consumer, out Delivery delivery)
    {
        if (_lanes[lane].Reader.TryRead(out Item item))
        {
            Interlocked.Increment(ref _delivered);
            delivery = new Delivery(item.Envelope, consumer, item.Tag);
            return true;
        }

        delivery = default;
        return false;
    }

    public ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken) => _lanes[lane].Reader.WaitToReadAsync(cancellationToken);

    public bool TryReadAny(IConsumer consumer, out Delivery delivery)
    {
        int start = _readCursor;
        for (int i = 0; i < _lanes.Length; i++)
        {
            int lane = (start + i) % _lanes.Length;
            if (TryRead(lane, consumer, out delivery))
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

    /// <summary>Ends the lanes: readers finish what is queued, then stop.</summary>
    public void Complete()
    {
        foreach (Channel<Item> lane in _lanes)
        {
            lane.Writer.TryComplete();
        }

        _anyLane?.Ring();
    }

    private int PickLane(Envelope envelope) =>
        _lanes.Length == 1 || envelope.Subject is not { } key ? 0 : (int)(MemoryQueue.StableHash(key) % (uint)_lanes.Length);

    private readonly record struct Item(Envelope Envelope, long Tag);
}
