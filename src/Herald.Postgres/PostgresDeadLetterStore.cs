namespace Herald.Postgres;

/// <summary>
/// Dead letters in the PostgreSQL schema (the table <c>dead_letters</c>), shared by every process: the handlers' and
/// the transport's poison, with the reason, listed, looked up, counted and removed by id.
/// </summary>
public sealed class PostgresDeadLetterStore : IDeadLetterStore, IAsyncDisposable
{
    private readonly PostgresDatabase _database;
    private readonly bool _ownsDatabase;
    private readonly CloudEventJsonFormatter _formatter;

    /// <summary>Opens the store in the schema <paramref name="options"/> names (created or migrated at the first use).</summary>
    public PostgresDeadLetterStore(PostgresOptions options)
        : this(new PostgresDatabase(options), ownsDatabase: true)
    {
    }

    internal PostgresDeadLetterStore(PostgresDatabase database, bool ownsDatabase)
    {
        _database = database;
        _ownsDatabase = ownsDatabase;
        _formatter = new CloudEventJsonFormatter(database.Options.Serializer);
    }

    private string S => _database.Schema;

    /// <inheritdoc />
    public async ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        await _database.ExecuteAsync(
            $"""
            INSERT INTO {S}.dead_letters (id, consumer, topic, reason, exception_type, exception_message, attempts, time, envelope)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING
            """,
            cancellationToken,
            deadLetter.Id,
            deadLetter.Consumer,
            deadLetter.Envelope.Type,
            deadLetter.Reason,
            (object?)deadLetter.ExceptionType ?? DBNull.Value,
            (object?)deadLetter.ExceptionMessage ?? DBNull.Value,
            deadLetter.Attempts,
            deadLetter.Time.ToUniversalTime(),
            _formatter.Encode(deadLetter.Envelope)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<DeadLetter>> ListAsync(TopicPattern? topic, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        return topic is null
            ? await ReadAsync($"SELECT id, consumer, reason, exception_type, exception_message, attempts, time, envelope, topic FROM {S}.dead_letters ORDER BY seq LIMIT $1", cancellationToken, (long)max).ConfigureAwait(false)
            : await ReadAsync($"SELECT id, consumer, reason, exception_type, exception_message, attempts, time, envelope, topic FROM {S}.dead_letters WHERE '.' || topic ~ $2 ORDER BY seq LIMIT $1", cancellationToken, (long)max, PostgresPatterns.Regex(topic)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<DeadLetter?> GetAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        IReadOnlyList<DeadLetter> found = await ReadAsync($"SELECT id, consumer, reason, exception_type, exception_message, attempts, time, envelope, topic FROM {S}.dead_letters WHERE id = $1", cancellationToken, id).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public async ValueTask<long> CountAsync(CancellationToken cancellationToken) =>
        await _database.QueryAsync(
            $"SELECT count(*) FROM {S}.dead_letters",
            async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) ? reader.GetInt64(0) : 0L,
            cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask<bool> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        return await _database.ExecuteAsync($"DELETE FROM {S}.dead_letters WHERE id = $1", cancellationToken, id).ConfigureAwait(false) > 0;
    }

    /// <summary>Closes the store's connections (when it made its own data source).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ownsDatabase)
        {
            await _database.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Task<IReadOnlyList<DeadLetter>> ReadAsync(string sql, CancellationToken cancellationToken, params object[] parameters) =>
        _database.QueryAsync<IReadOnlyList<DeadLetter>>(
            sql,
            async (reader, ct) =>
            {
                var letters = new List<DeadLetter>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    string id = reader.GetString(0);
                    byte[] stored = await reader.GetFieldValueAsync<byte[]>(7, ct).ConfigureAwait(false);
                    Envelope envelope;
                    try
                    {
                        envelope = CloudEventJsonFormatter.Decode(stored);
                    }
                    catch (EventDecodingException)
                    {
                        // The envelope itself is unreadable (that may be why it is here): its bytes are the payload.
                        envelope = new Envelope(reader.GetString(8), null, DateTimeOffset.UnixEpoch) { EncodedData = stored, DataContentType = "application/octet-stream" };
                    }

                    letters.Add(new DeadLetter(
                        id,
                        envelope,
                        reader.GetString(1),
                        reader.GetString(2),
                        await reader.IsDBNullAsync(3, ct).ConfigureAwait(false) ? null : reader.GetString(3),
                        await reader.IsDBNullAsync(4, ct).ConfigureAwait(false) ? null : reader.GetString(4),
                        reader.GetInt32(5),
                        await reader.GetFieldValueAsync<DateTimeOffset>(6, ct).ConfigureAwait(false)));
                }

                return letters;
            },
            cancellationToken,
            parameters);
}
