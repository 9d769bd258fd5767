namespace Herald;

/// <summary>
/// Thrown when a topic or topic pattern breaks the grammar, or when an event type has no topic.
/// The message names the topic or the type and says what is wrong and how to fix it.
/// </summary>
public sealed class InvalidTopicException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidTopicException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public InvalidTopicException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public InvalidTopicException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal InvalidTopicException(string message, string? topic, Type? eventType)
        : base(message)
    {
        Topic = topic;
        EventType = eventType;
    }

    /// <summary>The offending topic or pattern, when there is one.</summary>
    public string? Topic { get; }

    /// <summary>The event type whose topic is missing or invalid, when the problem came from a type.</summary>
    public Type? EventType { get; }
}
