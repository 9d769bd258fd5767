namespace Herald.Transport;

/// <summary>
/// A consumer whose events come from storage or a broker into <see cref="DeliveryLanes"/>: the reading side of
/// <see cref="IConsumer"/> over the lanes, shared by such transports; each adds how it settles, redelivers and stops.
/// </summary>
internal abstract class LaneConsumer : IConsumer
{
    private long _wrongType;

    protected LaneConsumer(ConsumerSpec spec)
    {
        Spec = spec;
        Lanes = new DeliveryLanes(spec.Lanes, spec.Capacity);
    }

    public ConsumerSpec Spec { get; }

    public string Name => Spec.Name;

    int IConsumer.Lanes => Lanes.Count;

    public SubscriptionStats Stats => new(Lanes.Delivered, Lanes.Queued, 0, 0, 0, Interlocked.Read(ref _wrongType), 0, 0);

    public abstract bool CanScheduleRedelivery { get; }

    protected DeliveryLanes Lanes { get; }

    public bool TryRead(int lane, out Delivery delivery) => Lanes.TryRead(lane, this, out delivery);

    public ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken) => Lanes.WaitToReadAsync(lane, cancellationToken);

    public bool TryReadAny(out Delivery delivery) => Lanes.TryReadAny(this, out delivery);

    public ValueTask<bool> WaitToReadAnyAsync(CancellationToken cancellationToken) => Lanes.WaitToReadAnyAsync(cancellationToken);

    public void CountWrongType(Envelope envelope) => Interlocked.Increment(ref _wrongType);

    public bool TryPeekOldest([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Envelope? envelope) => Lanes.TryPeekOldest(out envelope);

    public abstract ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken);

    public abstract ValueTask ScheduleRedeliveryAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken);

    public abstract ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}
