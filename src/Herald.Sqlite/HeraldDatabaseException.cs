namespace Herald.Sqlite;

/// <summary>
/// The database file cannot be used by Herald: it is not a SQLite file, it belongs to another application, or a newer
/// Herald wrote it. Herald never resets or rewrites such a file; the message says what was found.
/// </summary>
public sealed class HeraldDatabaseException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HeraldDatabaseException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public HeraldDatabaseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
