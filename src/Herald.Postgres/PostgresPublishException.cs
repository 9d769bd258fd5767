namespace Herald.Postgres;

/// <summary>PostgreSQL did not store a publish (the database unreachable, a timeout, a refused write); the message says which publish and why.</summary>
public sealed class PostgresPublishException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PostgresPublishException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public PostgresPublishException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
