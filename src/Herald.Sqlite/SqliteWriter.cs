using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Herald.Sqlite;

/// <summary>
/// The bus's single writer: a loop that takes every write waiting (up to <see cref="SqliteOptions.MaxBatch"/>) and
/// commits them in one transaction (group commit), then completes each. A publish completes only after the commit
/// that holds it (and so, with synchronous=FULL, after its fsync): concurrent publishers share fsyncs instead of
/// queueing for one each, and a single publisher pays one commit, as it would alone.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private readonly SqliteDatabase _database;
    private readonly ChangeSignal _committed;
    private readonly ILogger _logger;
    private readonly Channel<WriteOp> _ops = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private SqliteConnection? _connection;
    private const int ChunkRows = 16;

    private RawInsert? _insertMessage;
    private RawInsert? _insertChunk;
    private RawInsert? _insertInbox;
    private RawInsert? _insertInboxChunk;
    private readonly List<InsertInboxOp> _inboxRecords = [];

    /// <summary>Consumer numbers (herald_consumers) known committed; rows there are never deleted, so a number never goes stale.</summary>
    private readonly Dictionary<string, long> _consumerIds = new(StringComparer.Ordinal);

    /// <summary>Consumer numbers read or made in the commit under way: known only once it commits (a rolled-back number may go to another name).</summary>
    private readonly Dictionary<string, long> _newConsumerIds = new(StringComparer.Ordinal);

    /// <summary>Commits made (for diagnostics: the benchmark reports how busy the writer was).</summary>
    internal long Commits;

    /// <summary>Writes committed or failed, over all commits.</summary>
    internal long Writes;

    /// <summary>Stopwatch ticks spent in commits (from taking the write gate to completing the writes).</summary>
    internal long BusyTicks;

    public SqliteWriter(SqliteDatabase database, ChangeSignal committed, ILogger logger)
    {
        _database = database;
        _committed = committed;
        _logger = logger;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Queues <paramref name="op"/> for the next commit; the task completes after it.</summary>
    /// <exception cref="ObjectDisposedException">The writer is stopped.</exception>
    public Task EnqueueAsync(WriteOp op)
    {
        if (op.Done is null)
        {
            throw new ArgumentException("A write that is not awaited goes through Enqueue.", nameof(op));
        }

        Enqueue(op);
#pragma warning disable VSTHRD003 // the op's completion is the commit's; no context is captured anywhere in Herald
        return op.Done.Task;
#pragma warning restore VSTHRD003
    }

    /// <summary>Queues <paramref name="op"/> for the next commit; the writer calls its <see cref="WriteOp.Complete"/> after it.</summary>
    /// <exception cref="ObjectDisposedException">The writer is stopped.</exception>
    public void Enqueue(WriteOp op)
    {
        if (!_ops.Writer.TryWrite(op))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter), "The SQLite bus is disposed: nothing more can be written.");
        }
    }

    /// <summary>Inserts a message row in <paramref name="tx"/> with the writer's prepared statement when it is the writer's transaction.</summary>
    public void InsertMessage(SqliteTransaction tx, string eventId, string topic, string? subject, string? target, byte[] envelope)
    {
        bool own = ReferenceEquals(tx.Connection, _connection) && _insertMessage is not null;
        RawInsert insert = own ? _insertMessage! : CreateInsertMessage(tx.Connection!, 1);
        try
        {
            BindMessage(insert, 0, eventId, topic, subject, target, envelope);
            insert.Execute();
        }
        finally
        {
            if (!own)
            {
                insert.Dispose();
            }
        }
    }

    /// <summary>Commits what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _ops.Writer.TryComplete();
#pragma warning disable VSTHRD003 // the writer's own loop, started in its constructor
        await _loop.ConfigureAwait(false);
#pragma warning restore VSTHRD003
    }

    private static readonly string[] MessageColumns = ["event_id", "topic", "subject", "target", "envelope"];

    private static readonly string[] InboxColumns = ["event_id", "consumer", "time"];

    private static RawInsert CreateInsertMessage(SqliteConnection connection, int rows) => new(connection, "herald_messages", MessageColumns, rows);

    private static RawInsert CreateInsertInbox(SqliteConnection connection, int rows) => new(connection, "herald_inbox_records", InboxColumns, rows, "ON CONFLICT DO NOTHING");

    private static void BindMessage(RawInsert insert, int row, string eventId, string topic, string? subject, string? target, byte[] envelope)
    {
        insert.Text(row, 0, eventId);
        insert.Text(row, 1, topic);
        insert.Text(row, 2, subject);
        insert.Text(row, 3, target);
        insert.Blob(row, 4, envelope);
    }

    /// <summary>Inserts <see cref="ChunkRows"/> messages from <paramref name="start"/> in one statement (rows keep their order, so positions do too).</summary>
    private void InsertChunk(List<WriteOp> batch, int start)
    {
        RawInsert insert = _insertChunk!;
        for (int r = 0; r < ChunkRows; r++)
        {
            var op = (InsertMessageOp)batch[start + r];
            BindMessage(insert, r, op.EventId, op.Topic, op.Subject, op.Target, op.Envelope);
        }

        insert.Execute();
    }

    /// <summary>
    /// Inserts <paramref name="count"/> inbox records from <paramref name="start"/> in <paramref name="tx"/>: the writer's
    /// prepared statements (16 rows a statement, then one at a time) in its own transaction, a fresh one otherwise.
    /// </summary>
    public void InsertInbox(SqliteTransaction tx, IReadOnlyList<InsertInboxOp> records, int start, int count)
    {
        bool own = ReferenceEquals(tx.Connection, _connection) && _insertInbox is not null;
        int i = start;
        if (own)
        {
            for (; count - (i - start) >= ChunkRows; i += ChunkRows)
            {
                for (int r = 0; r < ChunkRows; r++)
                {
                    BindRecord(_insertInboxChunk!, r, records[i + r], ConsumerId(tx, records[i + r].Consumer));
                }

                _insertInboxChunk!.Execute();
            }
        }

        RawInsert single = own ? _insertInbox! : CreateInsertInbox(tx.Connection!, 1);
        try
        {
            for (; i < start + count; i++)
            {
                BindRecord(single, 0, records[i], own ? ConsumerId(tx, records[i].Consumer) : ResolveConsumer(tx, records[i].Consumer));
                single.Execute();
            }
        }
        finally
        {
            if (!own)
            {
                single.Dispose();
            }
        }
    }

    private static void BindRecord(RawInsert insert, int row, InsertInboxOp record, long consumer)
    {
        insert.Text(row, 0, record.EventId);
        insert.Integer(row, 1, consumer);
        insert.Integer(row, 2, record.Time);
    }

    /// <summary>
    /// The number of consumer <paramref name="name"/> in herald_consumers, made in <paramref name="tx"/> when it has none.
    /// Writes first: in a caller's deferred transaction a read first would take a snapshot that a commit of the writer
    /// meanwhile makes stale, and the write after it would fail at once instead of waiting under the busy timeout.
    /// </summary>
    internal static long ResolveConsumer(SqliteTransaction tx, string name)
    {
        using SqliteCommand command = tx.Connection!.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "INSERT INTO herald_consumers (name) VALUES ($n) ON CONFLICT (name) DO NOTHING";
        command.Parameters.AddWithValue("$n", name);
        command.ExecuteNonQuery();
        command.CommandText = "SELECT id FROM herald_consumers WHERE name = $n";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>The consumer's number, from what this writer knows or, once per name, from the file (inside the writer's transaction).</summary>
    private long ConsumerId(SqliteTransaction tx, string name)
    {
        if (_consumerIds.TryGetValue(name, out long id) || _newConsumerIds.TryGetValue(name, out id))
        {
            return id;
        }

        id = ResolveConsumer(tx, name);
        _newConsumerIds[name] = id;
        return id;
    }

    private async Task LoopAsync()
    {
        int max = _database.Options.MaxBatch;
        var batch = new List<WriteOp>(max);
        ChannelReader<WriteOp> reader = _ops.Reader;
        int previous = 0;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                batch.Clear();
                Gather(reader, batch, max, previous);
                previous = batch.Count;
                await CommitAsync(batch).ConfigureAwait(false);
            }
        }
        finally
        {
            _insertMessage?.Dispose();
            _insertChunk?.Dispose();
            _insertInbox?.Dispose();
            _insertInboxChunk?.Dispose();
            _connection?.Dispose();
        }
    }

    /// <summary>
    /// Takes what is queued. When the last commit carried several writes (concurrent writers are about), it lingers
    /// for a few yields so the writers its commit just woke can queue their next write into this one, instead of the
    /// commit leaving with the first arrival and every later one paying a commit of its own. A lone writer (the last
    /// commit held one write) never lingers: its latency is one commit.
    /// </summary>
    private static void Gather(ChannelReader<WriteOp> reader, List<WriteOp> batch, int max, int previous)
    {
        var spin = default(SpinWait);
        int idle = 0;
        while (batch.Count < max)
        {
            if (reader.TryRead(out WriteOp? op))
            {
                batch.Add(op);
                idle = 0;
                continue;
            }

            if (previous <= 1 || batch.Count >= previous || ++idle > 8)
            {
                return;
            }

            spin.SpinOnce(sleep1Threshold: -1); // yield the core to the writers; never sleep
        }
    }

    private async Task CommitAsync(List<WriteOp> batch)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        await _database.WriteGate.WaitAsync().ConfigureAwait(false);
        Exception? failure = null;
        try
        {
            if (_connection is null)
            {
                _connection = _database.Open();
                _insertMessage = CreateInsertMessage(_connection, 1);
                _insertChunk = CreateInsertMessage(_connection, ChunkRows);
                _insertInbox = CreateInsertInbox(_connection, 1);
                _insertInboxChunk = CreateInsertInbox(_connection, ChunkRows);
            }

            // Inbox records go last, together: they depend on no other write and none on them, and left in place they
            // would split the runs of published messages below.
            _inboxRecords.Clear();
            List<WriteOp> writes = batch;
            if (batch.Exists(op => op is InsertInboxOp))
            {
                writes = new List<WriteOp>(batch.Count);
                foreach (WriteOp op in batch)
                {
                    if (op is InsertInboxOp record)
                    {
                        _inboxRecords.Add(record);
                    }
                    else
                    {
                        writes.Add(op);
                    }
                }
            }

            using SqliteTransaction tx = _connection.BeginTransaction();
            for (int i = 0; i < writes.Count;)
            {
                // Runs of published messages go in multi-row INSERTs (one statement per chunk, not per row).
                int run = 0;
                while (run < ChunkRows && i + run < writes.Count && writes[i + run] is InsertMessageOp)
                {
                    run++;
                }

                if (run == ChunkRows)
                {
                    InsertChunk(writes, i);
                    i += run;
                }
                else
                {
                    writes[i].Execute(this, tx);
                    i++;
                }
            }

            InsertInbox(tx, _inboxRecords, 0, _inboxRecords.Count);
            tx.Commit();
            foreach ((string name, long id) in _newConsumerIds)
            {
                _consumerIds[name] = id;
            }
        }
        catch (Exception ex)
        {
            failure = ex;
            SqliteLog.CommitFailed(_logger, ex, batch.Count);

            // Start from a fresh connection next time: the failure may have left this one unusable.
            _insertMessage?.Dispose();
            _insertMessage = null;
            _insertChunk?.Dispose();
            _insertChunk = null;
            _insertInbox?.Dispose();
            _insertInbox = null;
            _insertInboxChunk?.Dispose();
            _insertInboxChunk = null;
            _connection?.Dispose();
            _connection = null;
        }
        finally
        {
            _newConsumerIds.Clear();
            _database.WriteGate.Release();
        }

        foreach (WriteOp op in batch)
        {
            op.Complete(failure);
        }

        if (failure is null)
        {
            _committed.Notify();
        }

        Commits++;
        Writes += batch.Count;
        BusyTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
    }
}
