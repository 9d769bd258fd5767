namespace Herald;

/// <summary>
/// An event that can never be handled: its payload cannot be bound to the handler's type. Never retried; the
/// delivery goes to the dead letters at once and the consumer carries on.
/// </summary>
public sealed class PoisonEventException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PoisonEventException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public PoisonEventException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public PoisonEventException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
