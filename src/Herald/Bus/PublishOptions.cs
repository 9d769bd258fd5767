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
}
