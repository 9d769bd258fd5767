namespace Herald;

/// <summary>Thrown when an event is published to a topic that a blocked gate covers (see <see cref="TopicGates.Block"/>).</summary>
public sealed class TopicBlockedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public TopicBlockedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public TopicBlockedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public TopicBlockedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal TopicBlockedException(string topic, string pattern)
        : base($"Publishing '{topic}' was refused: the topic gate '{pattern}' is blocked. Resume the gate to publish again.")
    {
        Topic = topic;
        Pattern = pattern;
    }

    /// <summary>The topic being published.</summary>
    public string? Topic { get; }

    /// <summary>The blocked gate's pattern.</summary>
    public string? Pattern { get; }
}
