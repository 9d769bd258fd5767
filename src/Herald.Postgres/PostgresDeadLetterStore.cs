using Npgsql;

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
        await ExecuteAsync(
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
    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand($"SELECT count(*) FROM {S}.dead_letters", connection);
            await using (command.ConfigureAwait(false))
            {
                return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        return await ExecuteAsync($"DELETE FROM {S}.dead_letters WHERE id = $1", cancellationToken, id).ConfigureAwait(false) > 0;
    }

    /// <summary>Closes the store's connections (when it made its own data source).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ownsDatabase)
        {
            await _database.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand(sql, connection);
            await using (command.ConfigureAwait(false))
            {
                foreach (object parameter in parameters)
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = parameter });
                }

                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<IReadOnlyList<DeadLetter>> ReadAsync(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        var letters = new List<DeadLetter>();
        NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand(sql, connection);
            await using (command.ConfigureAwait(false))
            {
                foreach (object parameter in parameters)
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = parameter });
                }

                NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        string id = reader.GetString(0);
                        byte[] stored = await reader.GetFieldValueAsync<byte[]>(7, cancellationToken).ConfigureAwait(false);
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
                            await reader.IsDBNullAsync(3, cancellationToken).ConfigureAwait(false) ? null : reader.GetString(3),
                            await reader.IsDBNullAsync(4, cancellationToken).ConfigureAwait(false) ? null : reader.GetString(4),
                            reader.GetInt32(5),
                            await reader.GetFieldValueAsync<DateTimeOffset>(6, cancellationToken).ConfigureAwait(false)));
                    }
                }
            }
        }

        return letters;
    }
}
