using System.Threading.Channels;

namespace Herald.Transport;

/// <summary>
/// The local buffer of a consumer whose events come from storage or a broker: bounded lanes (one per key hash when
/// ordered) that the transport's reader fills, waiting when full, and the delivery loops drain. Each item keeps the
/// transport's tag (a stored position, a broker delivery tag) for the acknowledgement. Thread-safe: one or more
/// writers, one reader per lane (or several over all lanes).
/// </summary>
public sealed class DeliveryLanes
{
    private readonly Channel<Item>[] _lanes;
    private readonly AsyncSignal? _anyLane;
    private long _delivered;
    private int _readCursor;

    /// <summary>Creates <paramref name="lanes"/> lanes of <paramref name="capacity"/> envelopes each.</summary>
    /// <param name="lanes">How many lanes (at least 1).</param>
    /// <param name="capacity">Room per lane (at least 1).</param>
    public DeliveryLanes(int lanes, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var options = new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, AllowSynchronousContinuations = false };
        _lanes = new Channel<Item>[lanes];
        for (int i = 0; i < _lanes.Length; i++)
        {
            _lanes[i] = Channel.CreateBounded<Item>(options);
        }

        _anyLane = lanes > 1 ? new AsyncSignal() : null;
    }

    /// <summary>How many lanes there are.</summary>
    public int Count => _lanes.Length;

    /// <summary>How many deliveries have been read.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>How many envelopes wait in the lanes now.</summary>
    public int Queued => _lanes.Sum(l => l.Reader.Count);

    /// <summary>Writes the envelope into its lane (by its key), waiting for room while the lane is full.</summary>
    /// <param name="envelope">The envelope.</param>
    /// <param name="tag">The transport's handle for settling it later (see <see cref="Delivery.Tag"/>).</param>
    /// <param name="cancellationToken">Stops the wait for room.</param>
    /// <exception cref="System.Threading.Channels.ChannelClosedException">The lanes were completed.</exception>
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

    /// <summary>Takes the next envelope of one lane as a delivery of <paramref name="consumer"/>, if any.</summary>
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

    /// <summary>Waits until the lane has an envelope (true) or is completed and empty (false).</summary>
    public ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken) => _lanes[lane].Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Takes the next envelope of any lane (lanes in turn), if any.</summary>
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

    /// <summary>Waits until any lane has an envelope (true) or all are completed and empty (false).</summary>
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

    /// <summary>The oldest envelope waiting (by its time), if any.</summary>
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
        envelope.Subject is not { } key ? 0 : KeyHash.Lane(key, _lanes.Length);

    private readonly record struct Item(Envelope Envelope, long Tag);
}
