namespace Herald;

/// <summary>
/// Thrown when bytes cannot be turned back into an envelope or an event: malformed CloudEvents JSON, a missing
/// required attribute, or a payload the serializer cannot read as the expected type. The message names the problem.
/// </summary>
public sealed class EventDecodingException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public EventDecodingException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public EventDecodingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public EventDecodingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
