namespace Herald.Nats;

/// <summary>
/// A publish that JetStream did not store: no acknowledgement within <see cref="NatsOptions.PublishTimeout"/> (the
/// server down or unreachable through the whole timeout, no stream for the subject), or a refusal (the stream full, a
/// message too large). The message says which; the event may be published again (its id makes the retry stored once).
/// </summary>
public sealed class NatsPublishException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed and why.</param>
    /// <param name="innerException">The client's exception, if any.</param>
    public NatsPublishException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>JetStream's error code when the server refused the message (10077: the stream is full; 10054: the message is too large), else null.</summary>
    public int? ErrorCode { get; init; }
}
