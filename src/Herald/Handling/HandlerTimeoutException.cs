namespace Herald;

/// <summary>An attempt ran past its handler's <see cref="HandlerOptions.Timeout"/>; the handler's token fired. Retryable.</summary>
public sealed class HandlerTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public HandlerTimeoutException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public HandlerTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public HandlerTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
