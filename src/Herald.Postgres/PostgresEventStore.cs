using System.Buffers;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;

namespace Herald.Postgres;

/// <summary>
/// The event store in a PostgreSQL schema, shared by every process that opens it. An append is one call of the
/// schema's <c>append_events</c> function (one round trip), in a transaction of its own or in the caller's (the outbox
/// pattern). Every append first locks the row that counts positions, so appends commit one after another and global
/// positions become visible in order, without gaps: a reader in position order never passes a position that commits
/// later, and a position is never skipped. The cost: appends to one store serialize (each waits for the one before it
/// to commit), and a caller's transaction that appended holds that lock until it commits — keep such transactions short.
/// </summary>
public sealed class PostgresEventStore : IEventStore, IAsyncDisposable
{
    private const int BatchSize = 256;

    private readonly PostgresDatabase _database;
    private readonly bool _ownsDatabase;
    private readonly CloudEventJsonFormatter _formatter;
    private readonly object _signalLock = new();
    private readonly GroupCommit<PendingAppend, (bool Accepted, long Actual, AppendResult Result)> _appends;
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Opens the store in the schema <paramref name="options"/> names (created or migrated at the first use).</summary>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public PostgresEventStore(PostgresOptions options)
        : this(new PostgresDatabase(options), ownsDatabase: true)
    {
    }

    internal PostgresEventStore(PostgresDatabase database, bool ownsDatabase)
    {
        _database = database;
        _ownsDatabase = ownsDatabase;
        _formatter = new CloudEventJsonFormatter(database.Options.Serializer);
        _appends = new(64, WriteAsync, database.Options.TimeProvider);
    }

    private string S => _database.Schema;

    /// <inheritdoc />
    /// <exception cref="PostgresSchemaException">The schema is another application's or a newer Herald's.</exception>
    public async Task<AppendResult> AppendAsync(string streamId, IReadOnlyList<Envelope> events, ExpectedVersion expectedVersion, DbTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        ArgumentNullException.ThrowIfNull(events);
        string[] ids = new string[events.Count];
        string[] types = new string[events.Count];
        byte[][] encoded = new byte[events.Count][];
        for (int i = 0; i < events.Count; i++)
        {
            Envelope envelope = events[i] ?? throw new ArgumentException($"Event {i} of the append to '{streamId}' is null.", nameof(events));
            ids[i] = envelope.Id;
            types[i] = envelope.Type;
            encoded[i] = _formatter.Encode(envelope);
        }

        NpgsqlTransaction? callers = transaction is null ? null : _database.CallerTransaction(transaction, nameof(transaction));
        await _database.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        AppendResult result;
        if (callers is not null)
        {
            result = await AppendAsync(callers.Connection!, callers, streamId, ids, types, encoded, expectedVersion, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Group commit: appends made at the same time share one transaction (each its own function call, so a
            // refused expected version refuses that append alone), one round trip, one commit.
            (bool accepted, long actual, AppendResult appended) = await _appends.WriteAsync(new PendingAppend(streamId, expectedVersion, ids, types, encoded), cancellationToken).ConfigureAwait(false);
            result = accepted ? appended : throw new WrongExpectedVersionException(streamId, expectedVersion, actual);
        }

        return result;
    }

    /// <summary>Up to 64 appends in one batch: each its own function call, one implicit transaction, one commit.</summary>
    private async Task<IReadOnlyList<(bool Accepted, long Actual, AppendResult Result)>> WriteAsync(IReadOnlyList<PendingAppend> batch)
    {
        NpgsqlConnection connection = await _database.OpenAsync(CancellationToken.None).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable connectionScope = connection.ConfigureAwait(false);
        var command = new NpgsqlBatch(connection);
        await using ConfiguredAsyncDisposable commandScope = command.ConfigureAwait(false);
        foreach (PendingAppend append in batch)
        {
            command.BatchCommands.Add(AppendCommand(append.StreamId, append.Expected, append.Ids, append.Types, append.Encoded));
        }

        // One batch: one implicit transaction, committed once every result has been read.
        var results = new List<(bool Accepted, long Actual, AppendResult Result)>(batch.Count);
        NpgsqlDataReader reader = await command.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            foreach (PendingAppend append in batch)
            {
                await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                results.Add((reader.GetBoolean(0), reader.GetInt64(1), new AppendResult(reader.GetInt64(2), reader.GetInt64(3))));
                await reader.NextResultAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        Signal(); // committed: the reader's end is the batch's end
        return results;
    }

    private NpgsqlBatchCommand AppendCommand(string streamId, ExpectedVersion expectedVersion, string[] ids, string[] types, byte[][] encoded) =>
        new($"SELECT accepted, actual, next_version, last_position FROM {S}.append_events($1, $2, $3, $4, $5)")
        {
            Parameters =
            {
                new NpgsqlParameter<string> { TypedValue = streamId },
                new NpgsqlParameter<long> { TypedValue = expectedVersion.Value },
                new NpgsqlParameter<string[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<string[]> { TypedValue = types, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<byte[][]> { TypedValue = encoded, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea },
            },
        };

    private async Task<AppendResult> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string streamId, string[] ids, string[] types, byte[][] encoded, ExpectedVersion expectedVersion, CancellationToken cancellationToken)
    {
        var command = new NpgsqlBatch(connection, tx) { BatchCommands = { AppendCommand(streamId, expectedVersion, ids, types, encoded) } };
        await using ConfiguredAsyncDisposable commandScope = command.ConfigureAwait(false);
        NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable readerScope = reader.ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (!reader.GetBoolean(0))
        {
            throw new WrongExpectedVersionException(streamId, expectedVersion, reader.GetInt64(1));
        }

        return new AppendResult(reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, long fromVersion, ReadDirection direction, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        string sql = direction == ReadDirection.Forwards
            ? $"SELECT stream_id, version, position, envelope FROM {S}.events WHERE stream_id = $1 AND version >= $2 ORDER BY version LIMIT $3"
            : $"SELECT stream_id, version, position, envelope FROM {S}.events WHERE stream_id = $1 AND version <= $2 ORDER BY version DESC LIMIT $3";
        return await ReadEventsAsync(sql, cancellationToken, streamId, fromVersion, (long)maxCount).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RecordedEvent>> ReadAllAsync(long fromPosition, int maxCount, CancellationToken cancellationToken = default) =>
        ReadAllAsync(fromPosition, maxCount, category: null, cancellationToken);

    private async Task<IReadOnlyList<RecordedEvent>> ReadAllAsync(long fromPosition, int maxCount, string? category, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        return category is null
            ? await ReadEventsAsync($"SELECT stream_id, version, position, envelope FROM {S}.events WHERE position >= $1 ORDER BY position LIMIT $2", cancellationToken, fromPosition, (long)maxCount).ConfigureAwait(false)
            : await ReadEventsAsync($"SELECT stream_id, version, position, envelope FROM {S}.events WHERE position >= $1 AND left(stream_id, $3) = $4 ORDER BY position LIMIT $2", cancellationToken, fromPosition, (long)maxCount, category.Length + 1, category + "-").ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<long> GetLastPositionAsync(CancellationToken cancellationToken = default) =>
        await ScalarAsync<long>($"SELECT coalesce(max(position), 0) FROM {S}.events", cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<StreamInfo> GetStreamAsync(string streamId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        return await _database.QueryAsync(
            $"SELECT version, max_count, truncate_before, deleted FROM {S}.streams WHERE stream_id = $1",
            async (reader, ct) => !await reader.ReadAsync(ct).ConfigureAwait(false)
                ? new StreamInfo(streamId, 0, new StreamMetadata(), Deleted: false)
                : new StreamInfo(
                    streamId,
                    reader.GetInt64(0),
                    new StreamMetadata(await reader.IsDBNullAsync(1, ct).ConfigureAwait(false) ? null : reader.GetInt64(1), await reader.IsDBNullAsync(2, ct).ConfigureAwait(false) ? null : reader.GetInt64(2)),
                    reader.GetBoolean(3)),
            cancellationToken,
            streamId).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task SetStreamMetadataAsync(string streamId, StreamMetadata metadata, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.MaxCount is < 1 || metadata.TruncateBefore is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(metadata), metadata, "Stream metadata: MaxCount and TruncateBefore must be at least 1 when set.");
        }

        await WriteAsync(
            $"""
            SELECT last FROM {S}.event_positions WHERE id = 1 FOR UPDATE;
            INSERT INTO {S}.streams (stream_id, version, max_count, truncate_before) VALUES (@p0, 0, @p1, @p2)
                ON CONFLICT (stream_id) DO UPDATE SET max_count = excluded.max_count, truncate_before = excluded.truncate_before;
            DELETE FROM {S}.events e USING {S}.streams s
                WHERE s.stream_id = @p0 AND e.stream_id = @p0
                AND e.version < greatest(coalesce(s.truncate_before, 0), CASE WHEN s.max_count IS NULL THEN 0 ELSE s.version - s.max_count + 1 END);
            """,
            cancellationToken,
            streamId,
            (object?)metadata.MaxCount ?? DBNull.Value,
            (object?)metadata.TruncateBefore ?? DBNull.Value).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteStreamAsync(string streamId, ExpectedVersion expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable connectionScope = connection.ConfigureAwait(false);
        NpgsqlTransaction tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable txScope = tx.ConfigureAwait(false);
        var command = new NpgsqlCommand(
            $"""
            SELECT last FROM {S}.event_positions WHERE id = 1 FOR UPDATE;
            SELECT CASE WHEN deleted THEN 0 ELSE version END FROM {S}.streams WHERE stream_id = @s;
            """,
            connection,
            tx);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string>("s", streamId));
            NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using ConfiguredAsyncDisposable readerScope = reader.ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            long actual = await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? reader.GetInt64(0) : 0;
            if (!expectedVersion.IsSatisfiedBy(actual))
            {
                throw new WrongExpectedVersionException(streamId, expectedVersion, actual);
            }
        }

        var delete = new NpgsqlCommand(
            $"""
            UPDATE {S}.streams SET deleted = true WHERE stream_id = @s;
            DELETE FROM {S}.events WHERE stream_id = @s;
            DELETE FROM {S}.snapshots WHERE stream_id = @s;
            """,
            connection,
            tx);

        await using (delete.ConfigureAwait(false))
        {
            delete.Parameters.Add(new NpgsqlParameter<string>("s", streamId));
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task SaveSnapshotAsync<TState>(Snapshot<TState> snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentException.ThrowIfNullOrWhiteSpace(snapshot.StreamId);
        var buffer = new ArrayBufferWriter<byte>(256);
        _database.Options.Serializer.Serialize(buffer, snapshot.State!, typeof(TState));

        // A snapshot older than the stored one never replaces it, nor does one of an older state version (an older release,
        // during a rolling deploy, would otherwise overwrite what the newer one can read).
        await WriteAsync(
            $"""
            INSERT INTO {S}.snapshots (stream_id, version, state, time, state_version) VALUES (@p0, @p1, @p2, @p3, @p4)
                ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, state = excluded.state, time = excluded.time, state_version = excluded.state_version
                WHERE excluded.version >= {S}.snapshots.version AND excluded.state_version >= {S}.snapshots.state_version
            """,
            cancellationToken,
            snapshot.StreamId,
            snapshot.Version,
            buffer.WrittenSpan.ToArray(),
            _database.Options.TimeProvider.GetUtcNow(),
            StoredEvents.StateVersion<TState>()).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Snapshot<TState>?> LoadSnapshotAsync<TState>(string streamId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        return await _database.QueryAsync(
            $"SELECT version, state, state_version FROM {S}.snapshots WHERE stream_id = $1",
            async (reader, ct) => !await reader.ReadAsync(ct).ConfigureAwait(false)
                ? null
                : StoredEvents.ReadSnapshot<TState>(_database.Options.Serializer, streamId, reader.GetInt64(0), await reader.GetFieldValueAsync<byte[]>(1, ct).ConfigureAwait(false), reader.GetInt32(2)),
            cancellationToken,
            streamId).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordedEvent> SubscribeAsync(long fromPosition, string? category, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long next = Math.Max(1, fromPosition);
        while (true)
        {
            Task appended;
            lock (_signalLock)
            {
                appended = _appended.Task;
            }

            IReadOnlyList<RecordedEvent> batch = await ReadAllAsync(next, BatchSize, category, cancellationToken).ConfigureAwait(false);
            foreach (RecordedEvent recorded in batch)
            {
                next = recorded.Position + 1;
                yield return recorded;
            }

            if (batch.Count < BatchSize)
            {
                // Woken at once by this process's appends; another process's are seen within PollInterval.
                try
                {
#pragma warning disable VSTHRD003 // the store's own signal, completed by its appends
                    await appended.WaitAsync(_database.Options.PollInterval, _database.Options.TimeProvider, cancellationToken).ConfigureAwait(false);
#pragma warning restore VSTHRD003
                }
                catch (TimeoutException)
                {
                    // read again
                }
            }
        }
    }

    /// <inheritdoc />
    public async Task<long> LoadCheckpointAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return await ScalarAsync<long?>($"SELECT position FROM {S}.checkpoints WHERE name = $1", cancellationToken, name).ConfigureAwait(false) ?? 0L;
    }

    /// <inheritdoc />
    public async Task SaveCheckpointAsync(string name, long position, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        await WriteAsync(
            $"INSERT INTO {S}.checkpoints (name, position, time) VALUES (@p0, @p1, @p2) ON CONFLICT (name) DO UPDATE SET position = excluded.position, time = excluded.time",
            cancellationToken,
            name,
            position,
            _database.Options.TimeProvider.GetUtcNow()).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public TEvent Decode<TEvent>(RecordedEvent recordedEvent) => StoredEvents.Decode<TEvent>(_formatter, recordedEvent);

    /// <summary>Writes the appends already made, then closes the store's connections (when it made its own data source).</summary>
    public async ValueTask DisposeAsync()
    {
        await _appends.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false); // the appends already made are written

        if (_ownsDatabase)
        {
            await _database.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Signal()
    {
        TaskCompletionSource done;
        lock (_signalLock)
        {
            done = _appended;
            _appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        done.TrySetResult();
    }

    private async Task WriteAsync(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable connectionScope = connection.ConfigureAwait(false);
        NpgsqlTransaction tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable txScope = tx.ConfigureAwait(false);
        var command = new NpgsqlCommand(sql, connection, tx);
        await using (command.ConfigureAwait(false))
        {
            for (int i = 0; i < parameters.Length; i++)
            {
                command.Parameters.Add(new NpgsqlParameter("p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), parameters[i])); // named: a command of several statements takes no $n
            }

            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private Task<T> ScalarAsync<T>(string sql, CancellationToken cancellationToken, params object[] parameters) =>
        _database.QueryAsync(
            sql,
            async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) && !await reader.IsDBNullAsync(0, ct).ConfigureAwait(false) ? await reader.GetFieldValueAsync<T>(0, ct).ConfigureAwait(false) : default!,
            cancellationToken,
            parameters);

    /// <summary>An append waiting for the writer.</summary>
    private sealed record PendingAppend(string StreamId, ExpectedVersion Expected, string[] Ids, string[] Types, byte[][] Encoded);

    private Task<IReadOnlyList<RecordedEvent>> ReadEventsAsync(string sql, CancellationToken cancellationToken, params object[] parameters) =>
        _database.QueryAsync<IReadOnlyList<RecordedEvent>>(
            sql,
            async (reader, ct) =>
            {
                var events = new List<RecordedEvent>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    events.Add(StoredEvents.Read(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), await reader.GetFieldValueAsync<byte[]>(3, ct).ConfigureAwait(false)));
                }

                return events;
            },
            cancellationToken,
            parameters);
}
