namespace Herald.Transport;

/// <summary>
/// A base for consumers whose events come from storage or a broker: the transport's reader writes each envelope into
/// bounded local lanes (<see cref="DeliveryLanes"/>, by key when ordered), waiting when they are full, and the
/// delivery loops read them through the <see cref="IConsumer"/> members implemented here. A derived consumer adds how it
/// settles, redelivers and stops.
/// </summary>
public abstract class LaneConsumer : IConsumer
{
    private long _wrongType;

    /// <summary>Creates the consumer's lanes from <paramref name="spec"/> (<see cref="ConsumerSpec.Lanes"/> of <see cref="ConsumerSpec.Capacity"/> each).</summary>
    /// <param name="spec">What the consumer asked for.</param>
    protected LaneConsumer(ConsumerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        Lanes = new DeliveryLanes(spec.Lanes, spec.Capacity);
    }

    /// <summary>What the consumer asked for.</summary>
    public ConsumerSpec Spec { get; }

    /// <inheritdoc />
    public string Name => Spec.Name;

    int IConsumer.Lanes => Lanes.Count;

    /// <inheritdoc />
    public SubscriptionStats Stats => new(Lanes.Delivered, Lanes.Queued, 0, 0, 0, Interlocked.Read(ref _wrongType), 0, 0);

    /// <summary>The local lanes: the transport's reader writes into them, the delivery loops read them.</summary>
    protected DeliveryLanes Lanes { get; }

    /// <inheritdoc />
    public bool TryRead(int lane, out Delivery delivery) => Lanes.TryRead(lane, this, out delivery);

    /// <inheritdoc />
    public ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken) => Lanes.WaitToReadAsync(lane, cancellationToken);

    /// <inheritdoc />
    public bool TryReadAny(out Delivery delivery) => Lanes.TryReadAny(this, out delivery);

    /// <inheritdoc />
    public ValueTask<bool> WaitToReadAnyAsync(CancellationToken cancellationToken) => Lanes.WaitToReadAnyAsync(cancellationToken);

    /// <inheritdoc />
    public void CountWrongType(Envelope envelope) => Interlocked.Increment(ref _wrongType);

    /// <inheritdoc />
    public bool TryPeekOldest([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Envelope? envelope) => Lanes.TryPeekOldest(out envelope);

    /// <inheritdoc />
    public abstract ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken);

    /// <inheritdoc />
    public abstract ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken);

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();
}
