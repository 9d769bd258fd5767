namespace Herald.Postgres;

/// <summary>
/// The PostgreSQL schema cannot be used by Herald: it holds another application's tables, or a newer Herald made it.
/// Herald never drops or rewrites such a schema; the message says what was found.
/// </summary>
public sealed class PostgresSchemaException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PostgresSchemaException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public PostgresSchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
