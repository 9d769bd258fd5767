namespace Herald.Transport;

/// <summary>
/// One registered consumer of a transport, read in the <c>System.Threading.Channels</c> shape: a synchronous
/// <see cref="TryRead"/> fast path and an asynchronous wait, per lane or over all lanes. Each delivery read is settled
/// once (<see cref="SettleAsync"/>, through <see cref="Delivery"/>). Disposing it ends the registration: readers
/// finish, and what was delivered but not settled comes again on a durable transport.
/// </summary>
/// <remarks>
/// Lanes: a consumer asked for <see cref="ConsumerSpec.Lanes"/> &gt; 1 puts every envelope of one key
/// (<see cref="Envelope.Subject"/>) in the same lane, so one reader per lane sees each key in order. A consumer that
/// fills local lanes from storage or a broker can derive from <see cref="LaneConsumer"/>.
/// </remarks>
public interface IConsumer : IAsyncDisposable
{
    /// <summary>The consumer's name, for logs, errors and dead letters.</summary>
    string Name { get; }

    /// <summary>How many ordered lanes the consumer has (1 when not ordered by key).</summary>
    int Lanes { get; }

    /// <summary>A snapshot of the consumer's counters; <see cref="SubscriptionStats.Queued"/> is what waits locally to be read.</summary>
    SubscriptionStats Stats { get; }

    /// <summary>Takes the next delivery of one lane, if any.</summary>
    bool TryRead(int lane, out Delivery delivery);

    /// <summary>Waits until one lane has a delivery (true) or is finished (false).</summary>
    ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken);

    /// <summary>Takes the next delivery of any lane, if any (lanes in turn, for fairness).</summary>
    bool TryReadAny(out Delivery delivery);

    /// <summary>Waits until any lane has a delivery (true) or all are finished (false).</summary>
    ValueTask<bool> WaitToReadAnyAsync(CancellationToken cancellationToken);

    /// <summary>Counts (and may log) a delivery its reader skipped because the payload was not of the reader's type.</summary>
    void CountWrongType(Envelope envelope);

    /// <summary>The oldest envelope waiting locally, if any (for the age-of-oldest gauge and the health check).</summary>
    bool TryPeekOldest([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Envelope? envelope);

    /// <summary>
    /// Delivers <paramref name="envelope"/> again to this consumer alone (or its group on a broker), not to the other
    /// consumers of its topic: a dead letter redriven to the consumer that failed it. Durable where the transport is.
    /// </summary>
    ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken);

    /// <summary>
    /// Settles a delivery: <see cref="SettleKind.Ack"/> (done), <see cref="SettleKind.Requeue"/> (refused: deliver again,
    /// attempt + 1) or <see cref="SettleKind.Release"/> (unfinished because of a shutdown: a durable transport delivers
    /// it again after a restart). Settling twice, or after disposal, does nothing.
    /// </summary>
    ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken);
}
