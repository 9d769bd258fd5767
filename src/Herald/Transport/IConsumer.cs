namespace Herald.Transport;

/// <summary>
/// One registered consumer of a transport, read in the <c>System.Threading.Channels</c> shape: a synchronous
/// <c>TryRead</c> fast path and an asynchronous wait, per lane or over all lanes. Disposing it ends the registration.
/// </summary>
internal interface IConsumer : IAsyncDisposable
{
    /// <summary>The consumer's name, for logs and errors.</summary>
    string Name { get; }

    /// <summary>How many ordered lanes the consumer has.</summary>
    int Lanes { get; }

    /// <summary>A snapshot of the consumer's counters.</summary>
    SubscriptionStats Stats { get; }

    /// <summary>Takes the next delivery of one lane, if any.</summary>
    bool TryRead(int lane, out Delivery delivery);

    /// <summary>Waits until one lane has a delivery (true) or is finished (false).</summary>
    ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken);

    /// <summary>Takes the next delivery of any lane, if any.</summary>
    bool TryReadAny(out Delivery delivery);

    /// <summary>Waits until any lane has a delivery (true) or all are finished (false).</summary>
    ValueTask<bool> WaitToReadAnyAsync(CancellationToken cancellationToken);

    /// <summary>Counts (and logs) a delivery the reader could not use because its payload was not of the expected type.</summary>
    void CountWrongType(Envelope envelope);

    /// <summary>The oldest queued envelope (for the age-of-oldest gauge and health), if any.</summary>
    bool TryPeekOldest([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Envelope? envelope);

    /// <summary>Puts an envelope into this consumer's own queue (a dead-letter redrive aimed at one consumer).</summary>
    ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken);

    /// <summary>Whether the transport can store a retry durably (<see cref="ScheduleRedeliveryAsync"/>); in memory it cannot, and the retry step waits.</summary>
    bool CanScheduleRedelivery { get; }

    /// <summary>
    /// Stores <paramref name="envelope"/> (carrying its next attempt number) to be delivered to this consumer again at
    /// <paramref name="due"/>, durably; completes when it is stored.
    /// </summary>
    /// <exception cref="NotSupportedException">The transport cannot (<see cref="CanScheduleRedelivery"/> is false).</exception>
    ValueTask ScheduleRedeliveryAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken);

    /// <summary>Settles a delivery: acknowledged, refused and put back (attempt + 1), or released unfinished.</summary>
    ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken);
}
