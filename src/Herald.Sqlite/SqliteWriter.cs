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
    private SqliteCommand? _insertMessage;

    public SqliteWriter(SqliteDatabase database, ChangeSignal committed, ILogger logger)
    {
        _database = database;
        _committed = committed;
        _logger = logger;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Commits done (for tests and stats).</summary>
    public long Commits { get; private set; }

    /// <summary>Queues <paramref name="op"/> for the next commit; the task completes after it.</summary>
    /// <exception cref="ObjectDisposedException">The writer is stopped.</exception>
    public Task EnqueueAsync(WriteOp op)
    {
        if (!_ops.Writer.TryWrite(op))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter), "The SQLite bus is disposed: nothing more can be written.");
        }

#pragma warning disable VSTHRD003 // the op's completion is the commit's; no context is captured anywhere in Herald
        return op.Done.Task;
#pragma warning restore VSTHRD003
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

    private static SqliteCommand CreateInsertMessage(SqliteConnection connection)
    {
        SqliteCommand command = connection.CreateCommand();
        command.CommandText = "INSERT INTO herald_messages (event_id, topic, subject, target, envelope) VALUES ($i, $t, $s, $g, $e)";
        command.Parameters.Add("$i", SqliteType.Text);
        command.Parameters.Add("$t", SqliteType.Text);
        command.Parameters.Add("$s", SqliteType.Text);
        command.Parameters.Add("$g", SqliteType.Text);
        command.Parameters.Add("$e", SqliteType.Blob);
        return command;
    }

    private async Task LoopAsync()
    {
        var batch = new List<WriteOp>(_database.Options.MaxBatch);
        ChannelReader<WriteOp> reader = _ops.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                batch.Clear();
                while (batch.Count < _database.Options.MaxBatch && reader.TryRead(out WriteOp? op))
                {
                    batch.Add(op);
                }

                await CommitAsync(batch).ConfigureAwait(false);
            }
        }
        finally
        {
            _insertMessage?.Dispose();
            _connection?.Dispose();
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
            }

            using SqliteTransaction tx = _connection.BeginTransaction();
            foreach (WriteOp op in batch)
            {
                op.Execute(this, tx);
            }

            tx.Commit();
            Commits++;
        }
        catch (Exception ex)
        {
            failure = ex;
            SqliteLog.CommitFailed(_logger, ex, batch.Count);

            // Start from a fresh connection next time: the failure may have left this one unusable.
            _insertMessage?.Dispose();
            _insertMessage = null;
            _connection?.Dispose();
            _connection = null;
        }
        finally
        {
            _database.WriteGate.Release();
        }

        foreach (WriteOp op in batch)
        {
            if (failure is null)
            {
                op.Done.TrySetResult();
            }
            else
            {
                op.Done.TrySetException(failure);
            }
        }

        if (failure is null)
        {
            _committed.Notify();
        }
    }
}
