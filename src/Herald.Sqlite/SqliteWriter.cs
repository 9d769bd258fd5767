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

    private SqliteCommand? _insertMessage;
    private SqliteCommand? _insertChunk;
    private SqliteCommand? _insertInbox;
    private SqliteCommand? _insertInboxChunk;
    private readonly List<InsertInboxOp> _inboxRecords = [];

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

    /// <summary>Inserts a message row in <paramref name="tx"/> with the writer's prepared command when it is the writer's transaction.</summary>
    public void InsertMessage(SqliteTransaction tx, string eventId, string topic, string? subject, string? target, byte[] envelope)
    {
        SqliteCommand command;
        bool own = ReferenceEquals(tx.Connection, _connection) && _insertMessage is not null;
        if (own)
        {
            command = _insertMessage!;
            command.Transaction = tx;
        }
        else
        {
            command = CreateInsertMessage(tx.Connection!);
            command.Transaction = tx;
        }

        try
        {
            command.Parameters[0].Value = eventId;
            command.Parameters[1].Value = topic;
            command.Parameters[2].Value = (object?)subject ?? DBNull.Value;
            command.Parameters[3].Value = (object?)target ?? DBNull.Value;
            command.Parameters[4].Value = envelope;
            command.ExecuteNonQuery();
        }
        finally
        {
            if (!own)
            {
                command.Dispose();
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

    private static readonly (string Column, SqliteType Type)[] MessageColumns =
        [("event_id", SqliteType.Text), ("topic", SqliteType.Text), ("subject", SqliteType.Text), ("target", SqliteType.Text), ("envelope", SqliteType.Blob)];

    private static readonly (string Column, SqliteType Type)[] InboxColumns =
        [("consumer", SqliteType.Text), ("event_id", SqliteType.Text), ("time", SqliteType.Text)];

    private static SqliteCommand CreateInsertMessage(SqliteConnection connection) => CreateInsert(connection, "herald_messages", MessageColumns, 1);

    private static SqliteCommand CreateInsertChunk(SqliteConnection connection) => CreateInsert(connection, "herald_messages", MessageColumns, ChunkRows);

    private static SqliteCommand CreateInsertInbox(SqliteConnection connection, int rows) =>
        CreateInsert(connection, "herald_inbox", InboxColumns, rows, "ON CONFLICT DO NOTHING");

    /// <summary>
    /// An INSERT of <paramref name="rows"/> rows into <paramref name="table"/>, its parameters in row order: row r's
    /// column c is parameter <c>r * columns + c</c>.
    /// </summary>
    private static SqliteCommand CreateInsert(SqliteConnection connection, string table, (string Column, SqliteType Type)[] columns, int rows, string? suffix = null)
    {
        SqliteCommand command = connection.CreateCommand();
        var sql = new System.Text.StringBuilder($"INSERT INTO {table} ({string.Join(", ", columns.Select(c => c.Column))}) VALUES ");
        for (int r = 0; r < rows; r++)
        {
            sql.Append(r == 0 ? "(" : ", (");
            for (int c = 0; c < columns.Length; c++)
            {
                string name = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"$p{r}_{c}");
                sql.Append(c == 0 ? name : ", " + name);
                command.Parameters.Add(name, columns[c].Type);
            }

            sql.Append(')');
        }

        if (suffix is not null)
        {
            sql.Append(' ').Append(suffix);
        }

        command.CommandText = sql.ToString();
        return command;
    }

    /// <summary>Inserts <see cref="ChunkRows"/> messages from <paramref name="start"/> in one statement (rows keep their order, so positions do too).</summary>
    private void InsertChunk(SqliteTransaction tx, List<WriteOp> batch, int start)
    {
        SqliteCommand command = _insertChunk!;
        command.Transaction = tx;
        for (int r = 0; r < ChunkRows; r++)
        {
            var op = (InsertMessageOp)batch[start + r];
            int p = r * 5;
            command.Parameters[p].Value = op.EventId;
            command.Parameters[p + 1].Value = op.Topic;
            command.Parameters[p + 2].Value = (object?)op.Subject ?? DBNull.Value;
            command.Parameters[p + 3].Value = (object?)op.Target ?? DBNull.Value;
            command.Parameters[p + 4].Value = op.Envelope;
        }

        command.ExecuteNonQuery();
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
                _insertInboxChunk!.Transaction = tx;
                for (int r = 0; r < ChunkRows; r++)
                {
                    InsertInboxOp record = records[i + r];
                    _insertInboxChunk.Parameters[r * 3].Value = record.Consumer;
                    _insertInboxChunk.Parameters[(r * 3) + 1].Value = record.EventId;
                    _insertInboxChunk.Parameters[(r * 3) + 2].Value = record.Time;
                }

                _insertInboxChunk.ExecuteNonQuery();
            }
        }

        SqliteCommand single = own ? _insertInbox! : CreateInsertInbox(tx.Connection!, 1);
        try
        {
            single.Transaction = tx;
            for (; i < start + count; i++)
            {
                single.Parameters[0].Value = records[i].Consumer;
                single.Parameters[1].Value = records[i].EventId;
                single.Parameters[2].Value = records[i].Time;
                single.ExecuteNonQuery();
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
        await _database.WriteGate.WaitAsync().ConfigureAwait(false);
        Exception? failure = null;
        try
        {
            if (_connection is null)
            {
                _connection = _database.Open();
                _insertMessage = CreateInsertMessage(_connection);
                _insertMessage.Prepare();
                _insertChunk = CreateInsertChunk(_connection);
                _insertChunk.Prepare();
                _insertInbox = CreateInsertInbox(_connection, 1);
                _insertInbox.Prepare();
                _insertInboxChunk = CreateInsertInbox(_connection, ChunkRows);
                _insertInboxChunk.Prepare();
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
                    InsertChunk(tx, writes, i);
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
    }
}
