using Herald.Transport;

namespace Herald.Testing.Faults;

/// <summary>
/// A consumer that, following a <see cref="FaultPlan"/>, loses acknowledgements (the delivery is put back instead),
/// crashes mid-delivery (the delivery is redelivered at once while its handling goes on; what that handling settles is
/// lost), swaps deliveries where the consumer promises no order, and delays settles.
/// </summary>
internal sealed class FaultyConsumer(IConsumer inner, bool ordered, FaultPlan plan, Random decisions, FaultCounters counters) : IConsumer
{
    private const int AnyLane = -1;
    private readonly Lock _lock = new();

    // Deliveries whose consumer "crashed" while they were handled, with the redelivery of their copy; the same
    // envelope instance can be delivered more than once (a duplicated publish in memory), hence the count.
    private readonly Dictionary<Envelope, (int Count, Task Redelivered)> _crashed = new(ReferenceEqualityComparer.Instance);

    // A delivery read and held back, per lane (the last slot for reads from any lane), handed out after the next one.
    private readonly Delivery?[] _held = new Delivery?[inner.Lanes + 1];

    public string Name => inner.Name;

    public int Lanes => inner.Lanes;

    public SubscriptionStats Stats => inner.Stats;

    public bool TryRead(int lane, out Delivery delivery) => Read(lane, out delivery);

    public ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken) =>
        IsHeld(lane) ? ValueTask.FromResult(true) : inner.WaitToReadAsync(lane, cancellationToken);

    public bool TryReadAny(out Delivery delivery) => Read(AnyLane, out delivery);

    public ValueTask<bool> WaitToReadAnyAsync(CancellationToken cancellationToken) =>
        IsHeld(AnyLane) ? ValueTask.FromResult(true) : inner.WaitToReadAnyAsync(cancellationToken);

    public void CountWrongType(Envelope envelope) => inner.CountWrongType(envelope);

    public bool TryPeekOldest([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Envelope? envelope) => inner.TryPeekOldest(out envelope);

    public ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken) => inner.RedeliverAsync(envelope, cancellationToken);

    public async ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken)
    {
        var original = new Delivery(delivery.Envelope, inner, delivery.Tag);
        TimeSpan delay;
        Task? crashed = null;
        bool drop = false;
        lock (_lock)
        {
            delay = plan.NextDelay(decisions);
            if (_crashed.TryGetValue(delivery.Envelope, out (int Count, Task Redelivered) crash))
            {
                crashed = crash.Redelivered;
                if (crash.Count == 1)
                {
                    _crashed.Remove(delivery.Envelope);
                }
                else
                {
                    _crashed[delivery.Envelope] = (crash.Count - 1, crash.Redelivered);
                }
            }
            else if (kind == SettleKind.Ack)
            {
                drop = decisions.NextDouble() < plan.DropAck;
            }
        }

        if (delay > TimeSpan.Zero)
        {
            counters.Delayed();
            await Task.Delay(delay, plan.TimeProvider, cancellationToken).ConfigureAwait(false);
        }

        if (crashed is not null)
        {
            // The copy stands in for this delivery: whatever its handling decided is lost with the "crashed" consumer,
            // and the transport forgets the original (a broker drops a dead channel's deliveries once it redelivers).
            // When the copy could not be written (a full queue), the crash did not happen: the original settles as decided.
            bool copied;
            try
            {
                await crashed.ConfigureAwait(false);
                copied = true;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                copied = false;
            }

            await inner.SettleAsync(original, copied ? SettleKind.Ack : kind, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (drop)
        {
            counters.DroppedAck();
            await inner.SettleAsync(original, SettleKind.Requeue, cancellationToken).ConfigureAwait(false); // the ack is lost: it comes again
            return;
        }

        await inner.SettleAsync(original, kind, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private bool IsHeld(int lane)
    {
        lock (_lock)
        {
            return _held[lane == AnyLane ? ^1 : lane] is not null;
        }
    }

    /// <summary>
    /// Reads from one lane (or any), swapping two deliveries when the plan says so and the consumer promises no order
    /// (<see cref="ConsumerSpec.Ordered"/>: a key's deliveries stay in their order).
    /// </summary>
    private bool Read(int lane, out Delivery delivery)
    {
        lock (_lock)
        {
            ref Delivery? held = ref _held[lane == AnyLane ? ^1 : lane];
            if (held is { } first)
            {
                held = null;
                delivery = Own(first);
                return true;
            }

            if (!ReadInner(lane, out delivery))
            {
                return false;
            }

            if (!ordered && decisions.NextDouble() < plan.Reorder && ReadInner(lane, out Delivery next))
            {
                counters.Reordered();
                held = delivery;
                delivery = next;
            }

            delivery = Own(delivery);
            return true;
        }
    }

    private bool ReadInner(int lane, out Delivery delivery) =>
        lane == AnyLane ? inner.TryReadAny(out delivery) : inner.TryRead(lane, out delivery);

    /// <summary>Hands <paramref name="delivery"/> out as this consumer's own (so its settling comes back here), crashing on it when the plan says so.</summary>
    private Delivery Own(Delivery delivery)
    {
        bool crash;
        lock (_lock)
        {
            crash = decisions.NextDouble() < plan.CrashMidDelivery;
            if (crash)
            {
                // Redelivered now, before the handling of the original even starts: both may run at the same time.
                Task redelivered = inner.RedeliverAsync(delivery.Envelope.WithAttempt(delivery.Attempt + 1), CancellationToken.None).AsTask();
                int count = _crashed.TryGetValue(delivery.Envelope, out (int Count, Task Redelivered) earlier) ? earlier.Count : 0;
                _crashed[delivery.Envelope] = (count + 1, count == 0 ? redelivered : Task.WhenAll(earlier.Redelivered, redelivered));
            }
        }

        if (crash)
        {
            counters.Crashed();
        }

        return new Delivery(delivery.Envelope, this, delivery.Tag);
    }
}
