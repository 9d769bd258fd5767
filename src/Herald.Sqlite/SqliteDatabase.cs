using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Sqlite;

/// <summary>
/// One Herald database file: opens connections with Herald's settings (WAL, synchronous, busy timeout, foreign
/// keys off), checks and migrates the schema once, and serializes this process's writers (SQLite has one writer
/// at a time; waiting on a semaphore here is cheaper and fairer than SQLite's busy-retry loop).
/// </summary>
internal sealed class SqliteDatabase : IAsyncDisposable, IDisposable
{
    private readonly string _connectionString;
    private readonly Lock _migrateLock = new();
    private volatile bool _migrated;
    private SqliteWriter? _writer;
    private bool _disposed;

    public SqliteDatabase(SqliteOptions options, int schemaVersion = -1)
    {
        options.Validate();
        Options = options;
        InboxHints = new Herald.Transport.InboxHints(options.GroupLease / 2);
        var builder = new SqliteConnectionStringBuilder(options.ConnectionString);
        File = builder.DataSource;
        builder.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds));
        _connectionString = builder.ToString();
        SchemaVersion = schemaVersion < 0 ? SqliteSchema.CurrentVersion : schemaVersion;
    }

    public SqliteOptions Options { get; }

    /// <summary>The database file named by the connection string.</summary>
    public string File { get; }

    public int SchemaVersion { get; }

    /// <summary>Where the writer logs commit failures.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Rings after each commit of the <see cref="Writer"/>, waking this process's readers.</summary>
    public ChangeSignal Committed { get; } = new();

    /// <summary>What this process's group readers learned about the inbox, for the inbox's lookups (see <see cref="InboxHints"/>).</summary>
    public Herald.Transport.InboxHints InboxHints { get; }

    /// <summary>The group-commit writer of this database in this process (made on first use).</summary>
    public SqliteWriter Writer
    {
        get
        {
            if (_writer is { } writer)
            {
                return writer;
            }

            lock (_migrateLock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                return _writer ??= new SqliteWriter(this, Committed, Logger);
            }
        }
    }

    /// <summary>Serializes this process's write transactions.</summary>
    public SemaphoreSlim WriteGate { get; } = new(1, 1);

    /// <summary>Opens a connection with Herald's settings; the first open checks and migrates the schema.</summary>
    /// <exception cref="HeraldDatabaseException">The file is not usable by Herald.</exception>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using (var pragmas = connection.CreateCommand())
            {
                int busy = (int)Options.BusyTimeout.TotalMilliseconds;
                string sync = Options.Synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL";
                pragmas.CommandText = $"PRAGMA busy_timeout = {busy}; PRAGMA synchronous = {sync};";
                pragmas.ExecuteNonQuery();
            }

            if (!_migrated)
            {
                lock (_migrateLock)
                {
                    if (!_migrated)
                    {
                        // Identity first: never switch another application's file to WAL.
                        int version = SqliteSchema.Check(connection, File, SchemaVersion, Options.AdoptExistingDatabase);
                        EnableWal(connection);
                        SqliteSchema.Migrate(connection, version, SchemaVersion);
                        _migrated = true;
                    }
                }
            }

            return connection;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 26 or 11)
        {
            connection.Dispose();
            throw new HeraldDatabaseException($"'{File}' is not a SQLite database (SQLite says: {ex.Message}). Herald will not overwrite it; point Herald at another file.", ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The caller's transaction, when it is an open <see cref="SqliteTransaction"/> on this database's file; otherwise an
    /// <see cref="ArgumentException"/> saying what it is instead.
    /// </summary>
    public SqliteTransaction CallerTransaction(System.Data.Common.DbTransaction transaction, string parameter)
    {
        if (transaction is not SqliteTransaction { Connection: { } connection } tx)
        {
            throw new ArgumentException(
                $"The transaction must be an open SqliteTransaction on '{File}', not a {transaction.GetType().Name}{(transaction.Connection is null ? " that has ended" : string.Empty)}.",
                parameter);
        }

        if (!string.Equals(Path.GetFullPath(connection.DataSource), Path.GetFullPath(File), StringComparison.Ordinal))
        {
            throw new ArgumentException($"The transaction is on '{connection.DataSource}', but Herald's database is '{File}': the outbox needs both in one file.", parameter);
        }

        return tx;
    }

    /// <summary>Runs one statement with parameters in <paramref name="tx"/>.</summary>
    public static void Execute(SqliteTransaction tx, string sql, params (string Name, object? Value)[] parameters)
    {
        using SqliteCommand command = tx.Connection!.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        Bind(command, parameters);
        command.ExecuteNonQuery();
    }

    /// <summary>Runs one read in <paramref name="tx"/> and returns the first column of the first row (null when none).</summary>
    public object? Scalar(SqliteTransaction tx, string sql, params (string Name, object? Value)[] parameters)
    {
        using SqliteCommand command = tx.Connection!.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        Bind(command, parameters);
        return command.ExecuteScalar();
    }

    /// <summary>Runs one read on a connection of its own and returns the first column of the first row (null when none).</summary>
    public object? Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        using SqliteConnection connection = Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        Bind(command, parameters);
        return command.ExecuteScalar();
    }

    /// <summary>Stops the writer (after committing what it holds).</summary>
    public async ValueTask DisposeAsync()
    {
        SqliteWriter? writer;
        lock (_migrateLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            writer = _writer;
        }

        if (writer is not null)
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
#pragma warning disable VSTHRD002 // synchronous disposal on request; the writer's loop never needs this thread
        DisposeAsync().AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
    }

    private static void Bind(SqliteCommand command, (string Name, object? Value)[] parameters)
    {
        foreach ((string name, object? value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
    }

    private void EnableWal(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL";
        string? mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase) && File != ":memory:" && !File.Contains("mode=memory", StringComparison.Ordinal))
        {
            throw new HeraldDatabaseException($"'{File}' could not be switched to WAL journaling (it stays in '{mode}' mode); Herald needs WAL for concurrent readers.");
        }
    }
}
