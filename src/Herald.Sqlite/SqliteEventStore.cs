using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>
/// The event store on one SQLite file (WAL). Appends run in one transaction each (or in the caller's), so they are
/// atomic; global positions come from an AUTOINCREMENT key and are never reused, and since SQLite commits one writer
/// at a time, positions become visible in order (a reader never sees a gap that is later filled).
/// </summary>
public sealed class SqliteEventStore : IEventStore, IDisposable
{
    private const int BatchSize = 256;

    private readonly SqliteDatabase _database;
    private readonly bool _ownsDatabase;
    private readonly EnvelopeCodec _codec;
    private readonly ChangeSignal _appended = new();

    /// <summary>Opens (and creates or migrates, when needed) the store in the database <paramref name="options"/> names.</summary>
    /// <exception cref="HeraldDatabaseException">The file is not a Herald database, or a newer Herald wrote it.</exception>
    public SqliteEventStore(SqliteOptions options)
        : this(new SqliteDatabase(options), ownsDatabase: true)
    {
    }

    internal SqliteEventStore(SqliteDatabase database, bool ownsDatabase)
    {
        _database = database;
        _ownsDatabase = ownsDatabase;
        _codec = new EnvelopeCodec(database.Options.Serializer);
        using SqliteConnection check = database.Open(); // fail at construction, not at the first append
    }

    private TimeProvider Time => _database.Options.TimeProvider;

    /// <inheritdoc />
    public async Task<AppendResult> AppendAsync(string streamId, IReadOnlyList<Envelope> events, ExpectedVersion expectedVersion, DbTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        ArgumentNullException.ThrowIfNull(events);
        byte[][] encoded = new byte[events.Count][];
        for (int i = 0; i < events.Count; i++)
        {
            encoded[i] = _codec.Encode(events[i] ?? throw new ArgumentException($"Event {i} of the append to '{streamId}' is null.", nameof(events)));
        }

        if (transaction is not null)
        {
            SqliteTransaction tx = _database.CallerTransaction(transaction, nameof(transaction));
            return Append(tx, streamId, events, encoded, expectedVersion);
        }

        AppendResult result = await WriteAsync(tx => Append(tx, streamId, events, encoded, expectedVersion), cancellationToken).ConfigureAwait(false);
        _appended.Notify();
        return result;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, long fromVersion, ReadDirection direction, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        cancellationToken.ThrowIfCancellationRequested();
        using SqliteConnection connection = _database.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = direction == ReadDirection.Forwards
            ? "SELECT stream_id, version, position, envelope FROM herald_events WHERE stream_id = $s AND version >= $v ORDER BY version LIMIT $n"
            : "SELECT stream_id, version, position, envelope FROM herald_events WHERE stream_id = $s AND version <= $v ORDER BY version DESC LIMIT $n";
        command.Parameters.AddWithValue("$s", streamId);
        command.Parameters.AddWithValue("$v", fromVersion);
        command.Parameters.AddWithValue("$n", maxCount);
        return Task.FromResult<IReadOnlyList<RecordedEvent>>(ReadEvents(command));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RecordedEvent>> ReadAllAsync(long fromPosition, int maxCount, CancellationToken cancellationToken = default) =>
        Task.FromResult(ReadAll(fromPosition, maxCount, category: null, cancellationToken));

    /// <inheritdoc />
    public Task<long> GetLastPositionAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult((long)_database.Scalar("SELECT coalesce(max(position), 0) FROM herald_events")!);
    }

    /// <inheritdoc />
    public Task<StreamInfo> GetStreamAsync(string streamId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        cancellationToken.ThrowIfCancellationRequested();
        using SqliteConnection connection = _database.Open();
        return Task.FromResult(ReadStreamRow(connection, null, streamId));
    }

    /// <inheritdoc />
    public Task SetStreamMetadataAsync(string streamId, StreamMetadata metadata, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.MaxCount is < 1 || metadata.TruncateBefore is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(metadata), metadata, "Stream metadata: MaxCount and TruncateBefore must be at least 1 when set.");
        }

        return WriteAsync(
            tx =>
            {
                SqliteDatabase.Execute(
                    tx,
                    """
                    INSERT INTO herald_streams (stream_id, version, max_count, truncate_before) VALUES ($s, 0, $m, $t)
                    ON CONFLICT (stream_id) DO UPDATE SET max_count = excluded.max_count, truncate_before = excluded.truncate_before
                    """,
                    ("$s", streamId),
                    ("$m", metadata.MaxCount),
                    ("$t", metadata.TruncateBefore));
                StreamInfo info = ReadStreamRow(tx.Connection!, tx, streamId);
                Trim(tx, info);
                return true;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteStreamAsync(string streamId, ExpectedVersion expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        return WriteAsync(
            tx =>
            {
                StreamInfo info = ReadStreamRow(tx.Connection!, tx, streamId);
                long actual = info.Deleted ? 0 : info.Version;
                if (!expectedVersion.IsSatisfiedBy(actual))
                {
                    throw new WrongExpectedVersionException(streamId, expectedVersion, actual);
                }

                SqliteDatabase.Execute(tx, "UPDATE herald_streams SET deleted = 1 WHERE stream_id = $s", ("$s", streamId));
                SqliteDatabase.Execute(tx, "DELETE FROM herald_events WHERE stream_id = $s", ("$s", streamId));
                SqliteDatabase.Execute(tx, "DELETE FROM herald_snapshots WHERE stream_id = $s", ("$s", streamId));
                return true;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task SaveSnapshotAsync<TState>(Snapshot<TState> snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentException.ThrowIfNullOrWhiteSpace(snapshot.StreamId);
        byte[] state = _codec.Serialize(snapshot.State);
        return WriteAsync(
            tx =>
            {
                // A snapshot older than the stored one never replaces it, nor does one of an older state version (an older
                // release, during a rolling deploy, would otherwise overwrite what the newer one can read).
                SqliteDatabase.Execute(
                    tx,
                    """
                    INSERT INTO herald_snapshots (stream_id, version, state, time, state_version) VALUES ($s, $v, $d, $t, $sv)
                    ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, state = excluded.state, time = excluded.time, state_version = excluded.state_version
                    WHERE excluded.version >= herald_snapshots.version AND excluded.state_version >= herald_snapshots.state_version
                    """,
                    ("$s", snapshot.StreamId),
                    ("$v", snapshot.Version),
                    ("$d", state),
                    ("$sv", StoredEvents.StateVersion<TState>()),
                    ("$t", Now()));
                return true;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<Snapshot<TState>?> LoadSnapshotAsync<TState>(string streamId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(streamId);
        cancellationToken.ThrowIfCancellationRequested();
        using SqliteConnection connection = _database.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT version, state, state_version FROM herald_snapshots WHERE stream_id = $s";
        command.Parameters.AddWithValue("$s", streamId);
        using SqliteDataReader reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return Task.FromResult<Snapshot<TState>?>(null);
        }

        return Task.FromResult<Snapshot<TState>?>(StoredEvents.ReadSnapshot<TState>(_codec.Serializer, streamId, reader.GetInt64(0), (byte[])reader.GetValue(1), reader.GetInt32(2)));
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordedEvent> SubscribeAsync(long fromPosition, string? category, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long next = Math.Max(1, fromPosition);
        while (true)
        {
            Task changed = _appended.Current;
            IReadOnlyList<RecordedEvent> batch = ReadAll(next, BatchSize, category, cancellationToken);
            foreach (RecordedEvent recorded in batch)
            {
                next = recorded.Position + 1;
                yield return recorded;
            }

            if (batch.Count < BatchSize)
            {
                await ChangeSignal.WaitAsync(changed, _database.Options.PollInterval, Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public Task<long> LoadCheckpointAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_database.Scalar("SELECT position FROM herald_checkpoints WHERE name = $n", ("$n", name)) is long position ? position : 0L);
    }

    /// <inheritdoc />
    public Task SaveCheckpointAsync(string name, long position, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        return WriteAsync(
            tx =>
            {
                SqliteDatabase.Execute(
                    tx,
                    "INSERT INTO herald_checkpoints (name, position, time) VALUES ($n, $p, $t) ON CONFLICT (name) DO UPDATE SET position = excluded.position, time = excluded.time",
                    ("$n", name),
                    ("$p", position),
                    ("$t", Now()));
                return true;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public TEvent Decode<TEvent>(RecordedEvent recordedEvent) => StoredEvents.Decode<TEvent>(_codec.Formatter, recordedEvent);

    /// <summary>Releases the store's database handle (connections are pooled by Microsoft.Data.Sqlite).</summary>
    public void Dispose()
    {
        if (_ownsDatabase)
        {
            _database.Dispose();
        }
    }

    private async Task<T> WriteAsync<T>(Func<SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        await _database.WriteGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using SqliteConnection connection = _database.Open();
            using SqliteTransaction tx = connection.BeginTransaction();
            T result = work(tx);
            tx.Commit();
            return result;
        }
        finally
        {
            _database.WriteGate.Release();
        }
    }

    private AppendResult Append(SqliteTransaction tx, string streamId, IReadOnlyList<Envelope> events, byte[][] encoded, ExpectedVersion expectedVersion)
    {
        StreamInfo info = ReadStreamRow(tx.Connection!, tx, streamId);
        long actual = info.Deleted ? 0 : info.Version;
        if (!expectedVersion.IsSatisfiedBy(actual))
        {
            throw new WrongExpectedVersionException(streamId, expectedVersion, actual);
        }

        long version = info.Version; // after a soft delete, versions continue: they are never reused
        long position = 0;
        using (SqliteCommand insert = tx.Connection!.CreateCommand())
        {
            insert.Transaction = tx;
            insert.CommandText = "INSERT INTO herald_events (stream_id, version, event_id, type, envelope) VALUES ($s, $v, $i, $t, $e)";
            SqliteParameter s = insert.Parameters.Add("$s", SqliteType.Text);
            SqliteParameter v = insert.Parameters.Add("$v", SqliteType.Integer);
            SqliteParameter i = insert.Parameters.Add("$i", SqliteType.Text);
            SqliteParameter t = insert.Parameters.Add("$t", SqliteType.Text);
            SqliteParameter e = insert.Parameters.Add("$e", SqliteType.Blob);
            s.Value = streamId;
            for (int n = 0; n < events.Count; n++)
            {
                v.Value = ++version;
                i.Value = events[n].Id;
                t.Value = events[n].Type;
                e.Value = encoded[n];
                insert.ExecuteNonQuery();
            }

            if (events.Count > 0)
            {
                using SqliteCommand last = tx.Connection!.CreateCommand();
                last.Transaction = tx;
                last.CommandText = "SELECT last_insert_rowid()";
                position = (long)last.ExecuteScalar()!;
            }
        }

        SqliteDatabase.Execute(
            tx,
            "INSERT INTO herald_streams (stream_id, version) VALUES ($s, $v) ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, deleted = 0",
            ("$s", streamId),
            ("$v", version));
        Trim(tx, info with { Version = version });
        return new AppendResult(version, position);
    }

    /// <summary>Deletes the events the stream's metadata no longer keeps.</summary>
    private static void Trim(SqliteTransaction tx, StreamInfo info)
    {
        long keepFrom = Math.Max(
            info.Metadata.TruncateBefore ?? 0,
            info.Metadata.MaxCount is { } max ? info.Version - max + 1 : 0);
        if (keepFrom > 1)
        {
            SqliteDatabase.Execute(tx, "DELETE FROM herald_events WHERE stream_id = $s AND version < $v", ("$s", info.StreamId), ("$v", keepFrom));
        }
    }

    private static StreamInfo ReadStreamRow(SqliteConnection connection, SqliteTransaction? tx, string streamId)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "SELECT version, max_count, truncate_before, deleted FROM herald_streams WHERE stream_id = $s";
        command.Parameters.AddWithValue("$s", streamId);
        using SqliteDataReader reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return new StreamInfo(streamId, 0, new StreamMetadata(), Deleted: false);
        }

        return new StreamInfo(
            streamId,
            reader.GetInt64(0),
            new StreamMetadata(reader.IsDBNull(1) ? null : reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2)),
            reader.GetInt64(3) != 0);
    }

    private IReadOnlyList<RecordedEvent> ReadAll(long fromPosition, int maxCount, string? category, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        cancellationToken.ThrowIfCancellationRequested();
        using SqliteConnection connection = _database.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = category is null
            ? "SELECT stream_id, version, position, envelope FROM herald_events WHERE position >= $p ORDER BY position LIMIT $n"
            : "SELECT stream_id, version, position, envelope FROM herald_events WHERE position >= $p AND substr(stream_id, 1, $l) = $c ORDER BY position LIMIT $n";
        command.Parameters.AddWithValue("$p", fromPosition);
        command.Parameters.AddWithValue("$n", maxCount);
        if (category is not null)
        {
            command.Parameters.AddWithValue("$c", category + "-");
            command.Parameters.AddWithValue("$l", category.Length + 1);
        }

        return ReadEvents(command);
    }

    private static List<RecordedEvent> ReadEvents(SqliteCommand command)
    {
        var events = new List<RecordedEvent>();
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            events.Add(StoredEvents.Read(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), (byte[])reader.GetValue(3)));
        }

        return events;
    }

    private string Now() => Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
}
