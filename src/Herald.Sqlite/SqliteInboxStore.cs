using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>
/// The inbox in the SQLite file: the ids each consumer has handled, kept across restarts, so an event delivered
/// again after a crash is skipped. The pipeline records an id after its handler succeeded (in the next group
/// commit); a handler that writes to the same file can record it in its own transaction with
/// <see cref="TryRecord"/>, so the effect and the record commit together (exactly-once effect).
/// </summary>
public sealed class SqliteInboxStore : IInboxStore, IAsyncDisposable
{
    private readonly SqliteDatabase _database;
    private readonly bool _ownsDatabase;
    private readonly ConcurrentDictionary<(string Consumer, string Id), byte> _claims = new();

    /// <summary>Open read connections with the lookup prepared, taken by one lookup at a time (at most <see cref="KeptLookups"/> kept).</summary>
    private readonly ConcurrentBag<Lookup> _lookups = [];
    private const int KeptLookups = 8;
    private int _kept; // ConcurrentBag.Count takes every lock of the bag: counted here instead
    private bool _disposed;
    private readonly Action<InsertInboxOp, bool> _recorded;

    /// <summary>Opens the inbox in the database <paramref name="options"/> names (created and migrated if needed); disposing the store closes it.</summary>
    public SqliteInboxStore(SqliteOptions options)
        : this(new SqliteDatabase(options))
    {
        _ownsDatabase = true;
    }

    internal SqliteInboxStore(SqliteDatabase database)
    {
        _database = database;
        _recorded = Recorded;
    }

    /// <summary>Closes the database when this store opened it (waiting for the records still queued to commit).</summary>
    public ValueTask DisposeAsync()
    {
        Volatile.Write(ref _disposed, true);
        DisposeLookups();

        return _ownsDatabase ? _database.DisposeAsync() : ValueTask.CompletedTask;
    }

    /// <summary>
    /// Records (<paramref name="consumer"/>, <paramref name="eventId"/>) in <paramref name="transaction"/>: true when it was
    /// not recorded yet (apply the effect), false when it was (a duplicate: apply nothing). Commit the transaction with
    /// the effect.
    /// </summary>
    /// <param name="transaction">An open transaction on this database, holding the handler's own writes.</param>
    /// <param name="consumer">The consumer (handler) name.</param>
    /// <param name="eventId">The event id.</param>
    public bool TryRecord(SqliteTransaction transaction, string consumer, string eventId)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(eventId);
        long number = SqliteWriter.ResolveConsumer(transaction, consumer);
        using SqliteCommand command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO herald_inbox_records (event_id, consumer, time) VALUES ($i, $c, $t) ON CONFLICT DO NOTHING";
        command.Parameters.AddWithValue("$i", eventId);
        command.Parameters.AddWithValue("$c", number);
        command.Parameters.AddWithValue("$t", Now());
        return command.ExecuteNonQuery() == 1;
    }

    /// <inheritdoc />
    public ValueTask<bool> TryBeginAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        if (!_claims.TryAdd((consumer, eventId), 0))
        {
            return ValueTask.FromResult(false); // being handled by another delivery right now
        }

        if (_database.InboxHints.TakeUnrecorded(consumer, eventId))
        {
            return ValueTask.FromResult(true); // the read of this delivery's row looked a moment ago, and nothing was recorded since
        }

        bool recorded;
        try
        {
            recorded = IsRecorded(consumer, eventId);
        }
        catch
        {
            _claims.TryRemove((consumer, eventId), out _); // not looked at: no claim left behind to make it a duplicate
            throw;
        }

        if (recorded)
        {
            _claims.TryRemove((consumer, eventId), out _);
            return ValueTask.FromResult(false);
        }

        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Does not wait for the commit: the record goes into the writer's next group commit, ahead of the checkpoint that
    /// acknowledges the delivery (one writer, in order), so a crash loses either both or neither. The claim is held
    /// until the record is committed, so a concurrent duplicate cannot slip between.
    /// </remarks>
    public ValueTask CompleteAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        var record = new InsertInboxOp(consumer, eventId, Now(), _recorded);
        try
        {
            _database.Writer.Enqueue(record);
        }
        catch
        {
            _recorded(record, false);
            throw;
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask AbandonAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        _claims.TryRemove((consumer, eventId), out _);
        return ValueTask.CompletedTask;
    }

    /// <summary>Whether the record is committed: a prepared statement on a kept read connection (no open, no parse per lookup).</summary>
    private bool IsRecorded(string consumer, string eventId)
    {
        if (_lookups.TryTake(out Lookup? lookup))
        {
            Interlocked.Decrement(ref _kept);
        }
        else
        {
            lookup = new Lookup(_database.Open());
        }

        bool keep = false;
        try
        {
            bool recorded = lookup.IsRecorded(consumer, eventId);
            keep = true;
            return recorded;
        }
        finally
        {
            bool kept = false;
            if (keep && !Volatile.Read(ref _disposed))
            {
                if (Interlocked.Increment(ref _kept) <= KeptLookups)
                {
                    _lookups.Add(lookup);
                    kept = true;
                    if (Volatile.Read(ref _disposed))
                    {
                        DisposeLookups(); // disposed while this one was out: nothing kept after the store is gone
                    }
                }
                else
                {
                    Interlocked.Decrement(ref _kept); // enough are kept
                }
            }

            if (!kept)
            {
                lookup.Dispose(); // failed (the connection may be unusable), disposed meanwhile, or enough kept
            }
        }
    }

    private void DisposeLookups()
    {
        while (_lookups.TryTake(out Lookup? lookup))
        {
            Interlocked.Decrement(ref _kept);
            lookup.Dispose();
        }
    }

    private sealed class Lookup : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _command;

        public Lookup(SqliteConnection connection)
        {
            _connection = connection;
            _command = connection.CreateCommand();
            try
            {
                _command.CommandText = "SELECT 1 FROM herald_inbox_records WHERE event_id = $i AND consumer = (SELECT id FROM herald_consumers WHERE name = $c)";
                _command.Parameters.Add("$c", SqliteType.Text);
                _command.Parameters.Add("$i", SqliteType.Text);
                _command.Prepare();
            }
            catch
            {
                _command.Dispose();
                _connection.Dispose();
                throw;
            }
        }

        public bool IsRecorded(string consumer, string eventId)
        {
            _command.Parameters[0].Value = consumer;
            _command.Parameters[1].Value = eventId;
            return _command.ExecuteScalar() is not null;
        }

        public void Dispose()
        {
            _command.Dispose();
            _connection.Dispose();
        }
    }

    /// <summary>
    /// Called by the writer after the commit that held a record (or at once when it could not be queued): the claim
    /// goes, after the hints learn of the record (committed, or perhaps: see <see cref="Herald.Transport.InboxHints"/>). A record that
    /// was not committed (the writer logged why) leaves the event to be handled again by a redelivery, as at least once
    /// allows.
    /// </summary>
    private void Recorded(InsertInboxOp record, bool committed)
    {
        _database.InboxHints.Committed(record.Consumer, record.EventId);
        _claims.TryRemove((record.Consumer, record.EventId), out _);
    }

    private long Now() => _database.Options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
}
