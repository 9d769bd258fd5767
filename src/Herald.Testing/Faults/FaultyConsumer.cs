using Herald.Transport;

namespace Herald.Testing.Faults;

/// <summary>A consumer whose acknowledgements the <see cref="FaultPlan"/> may lose: the delivery is put back instead, and comes again.</summary>
internal sealed class FaultyConsumer(IConsumer inner, FaultPlan plan, Random decisions, Action dropped) : IConsumer
{
    private readonly Lock _lock = new();

    public string Name => inner.Name;

    public int Lanes => inner.Lanes;

    public SubscriptionStats Stats => inner.Stats;

    // Deliveries are handed out as this consumer's own, so their settling comes back here.
    public bool TryRead(int lane, out Delivery delivery) => Own(inner.TryRead(lane, out delivery), ref delivery);

    public ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken) => inner.WaitToReadAsync(lane, cancellationToken);

    public bool TryReadAny(out Delivery delivery) => Own(inner.TryReadAny(out delivery), ref delivery);

    public ValueTask<bool> WaitToReadAnyAsync(CancellationToken cancellationToken) => inner.WaitToReadAnyAsync(cancellationToken);

    public void CountWrongType(Envelope envelope) => inner.CountWrongType(envelope);

    public bool TryPeekOldest([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Envelope? envelope) => inner.TryPeekOldest(out envelope);

    public ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken) => inner.RedeliverAsync(envelope, cancellationToken);

    public ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken)
    {
        var original = new Delivery(delivery.Envelope, inner, delivery.Tag);
        if (kind == SettleKind.Ack)
        {
            bool drop;
            lock (_lock)
            {
                drop = decisions.NextDouble() < plan.DropAck;
            }

            if (drop)
            {
                dropped();
                return inner.SettleAsync(original, SettleKind.Requeue, cancellationToken); // the ack is lost: it comes again
            }
        }

        return inner.SettleAsync(original, kind, cancellationToken);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private bool Own(bool read, ref Delivery delivery)
    {
        if (read)
        {
            delivery = new Delivery(delivery.Envelope, this, delivery.Tag);
        }

        return read;
    }
}
