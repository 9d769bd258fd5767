namespace Herald;

/// <summary>Per-publish settings. An instance may be reused for many publishes.</summary>
public sealed class PublishOptions
{
    /// <summary>The partition/order key (CloudEvents <c>subject</c>): events with the same key keep their order in ordered subscriptions.</summary>
    public string? Key { get; init; }

    /// <summary>Ties together the events of one business flow.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>The id of the event that caused this one.</summary>
    public string? CausationId { get; init; }

    /// <summary>Free headers (lowercase ASCII letters and digits as names, carried as CloudEvents extensions).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Deliver after this delay (on the bus's clock) instead of now. Not with <see cref="DeliverAt"/>.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Deliver at this time (on the bus's clock) instead of now; a past time delivers at once. Not with <see cref="Delay"/>.</summary>
    public DateTimeOffset? DeliverAt { get; init; }

    /// <summary>
    /// A database transaction to publish in (the outbox pattern): the event is stored in it and commits, or rolls back,
    /// with the caller's own writes. Needs a transport that stores events in that database (<c>UseSqlite</c> on the same
    /// file); topic gates do not apply to it.
    /// </summary>
    public System.Data.Common.DbTransaction? Transaction { get; init; }

    /// <summary>The due time asked for, or null to deliver now.</summary>
    internal DateTimeOffset? DueTime(DateTimeOffset now)
    {
        if (Delay is { } delay)
        {
            if (DeliverAt is not null)
            {
                throw new ArgumentException("PublishOptions.Delay and PublishOptions.DeliverAt were both set; choose one.", nameof(Delay));
            }

            return delay < TimeSpan.Zero
                ? throw new ArgumentOutOfRangeException(nameof(Delay), delay, "PublishOptions.Delay must not be negative.")
                : now + delay;
        }

        return DeliverAt;
    }
}
