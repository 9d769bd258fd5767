using Npgsql;

namespace Herald.Postgres;

/// <summary>
/// One Herald schema in one PostgreSQL database: the pooled data source, the quoted schema name, and the schema brought
/// to the current version once (at the first use; a failure is tried again at the next).
/// </summary>
internal sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly SemaphoreSlim _migrating = new(1, 1);
    private volatile bool _ready;

    public PostgresDatabase(PostgresOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        InboxHints = new Herald.Transport.InboxHints(options.ClaimLease / 2);
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);
        builder.ConnectionStringBuilder.ApplicationName ??= "herald";

        // Herald's own connections run READ COMMITTED whatever the server's default (a single-statement append or
        // publish has no BEGIN to say so): waiting on the positions row, or on a claimed row, needs it.
        builder.ConnectionStringBuilder.Options = (builder.ConnectionStringBuilder.Options + @" -c default_transaction_isolation=read\ committed").Trim();

        // Herald runs a few statements over and over (publish, claim, settle): prepared on each connection after their
        // second use, they are parsed and planned once instead of every time (a publish's routing insert took about
        // half its time in planning). A setting in the connection string is kept (Max Auto Prepare=0 behind a pooler
        // in transaction mode that cannot keep prepared statements).
        if (!Given(options.ConnectionString, "MaxAutoPrepare"))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        }

        // Herald's connections leave no session state behind (no SET, no temporary tables, no session locks; the
        // listener's connection is its own while it listens), so a connection back in the pool needs no reset: without
        // this, every pooled use ran five reset statements before Herald's own. A setting in the connection string is kept.
        if (!Given(options.ConnectionString, "NoResetOnClose"))
        {
            builder.ConnectionStringBuilder.NoResetOnClose = true;
        }
        DataSource = builder.Build();
        Database = builder.ConnectionStringBuilder.Database;
        Schema = PostgresSchema.Quote(options.Schema);
    }

    public PostgresOptions Options { get; }

    /// <summary>
    /// Deliveries (consumer, event id) whose event the inbox did not hold when their row was claimed (a claim looks in
    /// the inbox in the same statement), so the inbox answers their lookups without a query of its own, unless this
    /// process recorded that event id since (see <see cref="Herald.Transport.InboxHints"/>). A hint goes when the inbox
    /// takes it or the delivery is settled.
    /// </summary>
    public Herald.Transport.InboxHints InboxHints { get; }

    /// <summary>Whether the connection string sets <paramref name="key"/> (spelled with or without spaces, any case).</summary>
    private static bool Given(string connectionString, string key) =>
        new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Any(k => k.Replace(" ", string.Empty, StringComparison.Ordinal).Equals(key, StringComparison.OrdinalIgnoreCase));

    public NpgsqlDataSource DataSource { get; }

    /// <summary>The database's name as the connection string gives it (null: Npgsql's default, the user's name).</summary>
    public string? Database { get; }

    /// <summary>The schema's quoted name, to put before table names.</summary>
    public string Schema { get; }

    /// <summary>Makes sure the schema is current (once per process and schema).</summary>
    public async ValueTask EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }

        await _migrating.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_ready)
            {
                await PostgresSchema.MigrateAsync(DataSource, Options.Schema, cancellationToken).ConfigureAwait(false);
                _ready = true;
            }
        }
        finally
        {
            _migrating.Release();
        }
    }

    /// <summary>An open connection from the pool, the schema current.</summary>
    public async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs one query (positional parameters <c>$1</c>…) on a pooled connection, the schema current, and reads its rows with <paramref name="read"/>.</summary>
    public Task<T> QueryAsync<T>(string sql, Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken, params object[] parameters) =>
        RunAsync(
            sql,
            async (command, ct) =>
            {
                NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable readerScope = reader.ConfigureAwait(false);
                return await read(reader, ct).ConfigureAwait(false);
            },
            cancellationToken,
            parameters);

    /// <summary>Runs one query as <see cref="QueryAsync{T}"/> does and hands each row to <paramref name="row"/>.</summary>
    public Task QueryRowsAsync(string sql, Action<NpgsqlDataReader> row, CancellationToken cancellationToken, params object[] parameters) =>
        QueryAsync(
            sql,
            async (reader, ct) =>
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    row(reader);
                }

                return true;
            },
            cancellationToken,
            parameters);

    /// <summary>Runs one statement (positional parameters <c>$1</c>…) on a pooled connection, the schema current; the rows it affected.</summary>
    public Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params object[] parameters) =>
        RunAsync(sql, (command, ct) => command.ExecuteNonQueryAsync(ct), cancellationToken, parameters);

    /// <summary>Opens a pooled connection (the schema current), makes the command with its positional parameters, and runs <paramref name="run"/> on it.</summary>
    private async Task<T> RunAsync<T>(string sql, Func<NpgsqlCommand, CancellationToken, Task<T>> run, CancellationToken cancellationToken, object[] parameters)
    {
        NpgsqlConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable connectionScope = connection.ConfigureAwait(false);
        var command = new NpgsqlCommand(sql, connection);
        await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable commandScope = command.ConfigureAwait(false);
        foreach (object parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return await run(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The caller's transaction as an open Npgsql transaction on this database, or an exception naming the problem.</summary>
    /// <exception cref="ArgumentException">Not an <see cref="NpgsqlTransaction"/>, already completed, or on another database.</exception>
    public NpgsqlTransaction CallerTransaction(System.Data.Common.DbTransaction transaction, string parameter)
    {
        if (transaction is not NpgsqlTransaction npgsql)
        {
            throw new ArgumentException($"The transaction is a {transaction.GetType().FullName}; the PostgreSQL store takes an NpgsqlTransaction on its own database.", parameter);
        }

        if (npgsql.Connection is not { } connection)
        {
            throw new ArgumentException("The transaction has completed (committed or rolled back); pass an open one.", parameter);
        }

        if (Database is not null && !string.Equals(connection.Database, Database, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The transaction is on database '{connection.Database}', the store on '{Database}': the events and the caller's writes must commit in one database.", parameter);
        }

        return npgsql;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync().ConfigureAwait(false);
        _migrating.Dispose();
    }
}
