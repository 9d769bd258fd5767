using System.Collections.Concurrent;
using Npgsql;

namespace Herald.Postgres;

/// <summary>
/// The inbox in the PostgreSQL schema (the table <c>inbox</c>): the event ids each handler has handled, shared by every
/// process, so a redelivery to any member of a group is recognised. For an effect applied exactly once, record the
/// event in the handler's own transaction with <see cref="TryRecordAsync"/> and commit the two together. Entries older
/// than <see cref="PostgresOptions.InboxRetention"/> are deleted (at most once a minute, by the process that records).
/// On the PostgreSQL transport a claim looks in the inbox in its own statement, so most deliveries need no lookup of
/// their own; the other lookups made at the same time share one query, and records one insert.
/// </summary>
public sealed class PostgresInboxStore : IInboxStore, IAsyncDisposable
{
    private readonly PostgresDatabase _database;
    private readonly bool _ownsDatabase;
    private readonly ConcurrentDictionary<(string Consumer, string EventId), byte> _claims = new();
    private readonly GroupCommit<(string Consumer, string EventId), bool> _records;
    private readonly GroupCommit<(string Consumer, string EventId), bool> _lookups;
    private long _prunedAt;

    /// <summary>Opens the inbox in the schema <paramref name="options"/> names (created or migrated at the first use).</summary>
    public PostgresInboxStore(PostgresOptions options)
        : this(new PostgresDatabase(options), ownsDatabase: true)
    {
    }

    internal PostgresInboxStore(PostgresDatabase database, bool ownsDatabase)
    {
        _database = database;
        _ownsDatabase = ownsDatabase;
        _records = new GroupCommit<(string Consumer, string EventId), bool>(512, WriteAsync, database.Options.TimeProvider);
        _lookups = new GroupCommit<(string Consumer, string EventId), bool>(512, LookUpAsync, database.Options.TimeProvider);
    }

    private string S => _database.Schema;

    /// <summary>
    /// Records (<paramref name="consumer"/>, <paramref name="eventId"/>) in <paramref name="transaction"/>: true when it
    /// was not recorded yet (apply the effect), false when it was (a duplicate: apply nothing). Commit the transaction
    /// with the effect. A concurrent delivery of the same event waits for this transaction and then gets false.
    /// </summary>
    /// <param name="transaction">An open transaction on this database, holding the handler's own writes.</param>
    /// <param name="consumer">The consumer (handler) name.</param>
    /// <param name="eventId">The event id.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="ArgumentException">Not an open <see cref="NpgsqlTransaction"/> on this database.</exception>
    public async Task<bool> TryRecordAsync(NpgsqlTransaction transaction, string consumer, string eventId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(eventId);
        NpgsqlTransaction tx = _database.CallerTransaction(transaction, nameof(transaction));
        await _database.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var command = new NpgsqlCommand($"INSERT INTO {S}.inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", tx.Connection, tx);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = consumer });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = eventId });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryBeginAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        if (!_claims.TryAdd((consumer, eventId), 0))
        {
            return false; // being handled by another delivery of this process right now
        }

        if (_database.InboxHints.TakeUnrecorded(consumer, eventId))
        {
            return true; // the claim of this delivery's row found no record a moment ago, and this process recorded none since
        }

        bool recorded;
        try
        {
            recorded = await _lookups.WriteAsync((consumer, eventId), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _claims.TryRemove((consumer, eventId), out _);
            throw;
        }

        if (!recorded)
        {
            return true;
        }

        _claims.TryRemove((consumer, eventId), out _);
        return false;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Records written together: what the process's handlers complete at the same time goes into one insert (one round
    /// trip, committed without waiting for the disk: the acknowledgement that follows is written after it, and the
    /// WAL is in order, so a crash loses both or neither). Completes once the record is committed; the claim is held
    /// until then, so a concurrent duplicate cannot slip between.
    /// </remarks>
    public async ValueTask CompleteAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        try
        {
            await _records.WriteAsync((consumer, eventId), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _database.InboxHints.Committed(consumer, eventId); // committed, or perhaps (a lost answer): before the claim goes (see InboxHints)
            _claims.TryRemove((consumer, eventId), out _);
        }
    }

    /// <summary>Whether each (consumer, event id) is recorded: the lookups made at the same time in one query.</summary>
    private async Task<IReadOnlyList<bool>> LookUpAsync(IReadOnlyList<(string Consumer, string EventId)> batch)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), _database.Options.TimeProvider);
        var recorded = new HashSet<(string, string)>();
        await _database.QueryRowsAsync(
            $"SELECT i.consumer, i.event_id FROM {S}.inbox i JOIN unnest($1::text[], $2::text[]) AS l(c, e) ON i.consumer = l.c AND i.event_id = l.e",
            reader => recorded.Add((reader.GetString(0), reader.GetString(1))),
            timeout.Token,
            batch.Select(r => r.Consumer).ToArray(),
            batch.Select(r => r.EventId).ToArray()).ConfigureAwait(false);
        return [.. batch.Select(recorded.Contains)];
    }

    private async Task<IReadOnlyList<bool>> WriteAsync(IReadOnlyList<(string Consumer, string EventId)> batch)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), _database.Options.TimeProvider);
        NpgsqlConnection connection = await _database.OpenAsync(timeout.Token).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            long now = _database.Options.TimeProvider.GetTimestamp();
            bool prune = _database.Options.TimeProvider.GetElapsedTime(Interlocked.Read(ref _prunedAt), now) > TimeSpan.FromMinutes(1)
                         && Interlocked.Exchange(ref _prunedAt, now) != now;
            var command = new NpgsqlCommand(
                $"SELECT set_config('synchronous_commit', 'off', true); INSERT INTO {S}.inbox (consumer, event_id) SELECT * FROM unnest(@c, @i) ON CONFLICT DO NOTHING"
                + (prune ? $"; DELETE FROM {S}.inbox WHERE time < now() - @keep" : ""),
                connection);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<string[]>("c", [.. batch.Select(r => r.Consumer)]));
                command.Parameters.Add(new NpgsqlParameter<string[]>("i", [.. batch.Select(r => r.EventId)]));
                if (prune)
                {
                    command.Parameters.Add(new NpgsqlParameter<TimeSpan>("keep", _database.Options.InboxRetention));
                }

                await command.ExecuteNonQueryAsync(timeout.Token).ConfigureAwait(false);
            }
        }

        return new bool[batch.Count];
    }

    /// <inheritdoc />
    public ValueTask AbandonAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        _claims.TryRemove((consumer, eventId), out _);
        return ValueTask.CompletedTask;
    }

    /// <summary>Writes the records already completed, then closes the store's connections (when it made its own data source).</summary>
    public async ValueTask DisposeAsync()
    {
        await _records.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false); // the records already completed are written
        await _lookups.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);

        if (_ownsDatabase)
        {
            await _database.DisposeAsync().ConfigureAwait(false);
        }
    }
}
