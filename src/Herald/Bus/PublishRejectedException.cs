namespace Herald;

/// <summary>
/// Thrown at once when a publish meets a full subscription whose policy is <see cref="Overflow.Reject"/>.
/// Names the subscription. Subscriptions earlier in the fan-out may already hold the event.
/// </summary>
public sealed class PublishRejectedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public PublishRejectedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public PublishRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public PublishRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal PublishRejectedException(string topic, string subscription, int capacity)
        : base($"Publishing '{topic}' was rejected: subscription '{subscription}' is full ({capacity} queued) and its overflow policy is Reject.")
    {
        Topic = topic;
        Subscription = subscription;
    }

    /// <summary>The topic being published.</summary>
    public string? Topic { get; }

    /// <summary>The full subscription.</summary>
    public string? Subscription { get; }
}
