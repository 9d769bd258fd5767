namespace Herald;

/// <summary>
/// Thrown when a publish waited <see cref="EventBusOptions.PublishTimeout"/> for room in a full
/// <see cref="Overflow.Wait"/> subscription (or a full paused gate) and none came. Names the slow subscription.
/// </summary>
/// <remarks>
/// The event was not accepted by the subscription named here; subscriptions earlier in the fan-out may already hold it.
/// </remarks>
public sealed class PublishTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public PublishTimeoutException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public PublishTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public PublishTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal PublishTimeoutException(string topic, string subscription, TimeSpan timeout, string detail)
        : base($"Publishing '{topic}' timed out after {timeout.TotalMilliseconds:0} ms: {detail}")
    {
        Topic = topic;
        Subscription = subscription;
        Timeout = timeout;
    }

    /// <summary>The topic being published.</summary>
    public string? Topic { get; }

    /// <summary>The subscription (or gate) that had no room.</summary>
    public string? Subscription { get; }

    /// <summary>How long the publish waited.</summary>
    public TimeSpan Timeout { get; }
}
