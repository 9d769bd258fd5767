using System.Data.Common;
using System.Globalization;
using Herald.Transport;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Herald.Sqlite;

/// <summary>
/// The bus on SQLite: a publish appends the envelope to the message log and completes after the commit (group
/// commit: concurrent publishes share one); consumer groups read the log from their checkpoints; delayed events wait
/// in their own table and move into the log when due; redrives are appended for one group. See docs/sqlite.md.
/// </summary>
internal sealed class SqliteTransport : ITransport, IDelayedPublish, ITransactionalPublish
{
    private readonly Dictionary<string, GroupReader> _groups = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private const int RetentionChunk = 10_000;

    private readonly TransportContext _context;
    private readonly RoutedTopics _routed = new();
    private readonly Task _scheduler;
    private readonly Task _retention;
    private readonly bool _ownsDatabase;
    private bool _disposed;

    public SqliteTransport(SqliteDatabase database, TransportContext context, bool ownsDatabase)
    {
        Database = database;
        _ownsDatabase = ownsDatabase;
        Logger = context.Logger;
        _context = context;
        Codec = new EnvelopeCodec(database.Options.Serializer);
        Owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
        using (SqliteConnection connection = database.Open())
        {
            // check and migrate the file now: a bad file fails the bus's construction, not the first publish
            _routed.Refresh(connection);
        }

        _scheduler = Task.Run(SchedulerLoopAsync);
        _retention = Task.Run(RetentionLoopAsync);
    }

    public SqliteDatabase Database { get; }

    public ILogger Logger { get; }

    public EnvelopeCodec Codec { get; }

    /// <summary>Envelopes decoded lately, shared by this process's group readers (a row is decoded once, not once per group).</summary>
    public DecodedEnvelopes Decoded { get; } = new();

    /// <summary>This process's name as a group lease holder: machine, process id, and a random part.</summary>
    public string Owner { get; }

    public SqliteWriter Writer => Database.Writer;

    public ChangeSignal Committed => Database.Committed;

    private TimeProvider Time => Database.Options.TimeProvider;

    public ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ReportIfUnrouted(envelope);
        return AppendAsync(envelope, target: null, cancellationToken);
    }

    public ValueTask PublishAsync(Envelope envelope, DbTransaction transaction, CancellationToken cancellationToken)
    {
        SqliteTransaction tx = Database.CallerTransaction(transaction, nameof(transaction));
        cancellationToken.ThrowIfCancellationRequested();
        ReportIfUnrouted(envelope);
        Writer.InsertMessage(tx, envelope.Id, envelope.Type, envelope.Subject, target: null, Codec.Encode(envelope));
        return ValueTask.CompletedTask;
    }

    public ValueTask ScheduleAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken) =>
        ScheduleAsync(envelope, due, target: null, cancellationToken);

    /// <summary>Stores an envelope to move into the log at <paramref name="due"/> (for every group, or for <paramref name="target"/> only).</summary>
    public async ValueTask ScheduleAsync(Envelope envelope, DateTimeOffset due, string? target, CancellationToken cancellationToken)
    {
        byte[] encoded = Codec.Encode(envelope);
        long dueMs = due.ToUnixTimeMilliseconds();
        await Writer.EnqueueAsync(WriteOp.Of(tx => SqliteDatabase.Execute(
            tx,
            "INSERT INTO herald_scheduled (due, event_id, topic, subject, target, envelope) VALUES ($d, $i, $t, $s, $g, $e)",
            ("$d", dueMs),
            ("$i", envelope.Id),
            ("$t", envelope.Type),
            ("$s", envelope.Subject),
            ("$g", target),
            ("$e", encoded)))).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Appends to the log (for every group, or for <paramref name="target"/> only) and completes after the commit.</summary>
    public ValueTask AppendAsync(Envelope envelope, string? target, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        byte[] encoded = Codec.Encode(envelope); // on the caller's thread: encoding runs in parallel, only the commit is serial
        Task committed = Writer.EnqueueAsync(new InsertMessageOp(envelope.Id, envelope.Type, envelope.Subject, target, encoded));

        // The cancellation token can stop the wait but not the write: once queued, the event is committed with its batch.
        return new ValueTask(cancellationToken.CanBeCanceled ? committed.WaitAsync(cancellationToken) : committed);
    }

    public ValueTask<IConsumer> SubscribeAsync(ConsumerSpec spec, CancellationToken cancellationToken)
    {
        if (spec.Overflow != Overflow.Wait)
        {
            // The log is the queue: a publish is stored whatever the consumers do, and never waits for them. Dropping or
            // refusing because one consumer is behind would be a promise this transport does not keep: refuse it here.
            throw new NotSupportedException(
                $"Consumer '{spec.Name}' asks for Overflow.{spec.Overflow}, which the SQLite transport cannot honour: every event is kept in the log "
                + "until each group has read it, and a publish never waits for a consumer (Overflow.Wait, the default, is what it does). "
                + "Remove the Overflow setting for this consumer, or run it on the in-memory bus.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        string group = spec.GroupName;
        GroupReader reader;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            RegisterGroup(group, spec); // the group once, each member (name, pattern) for the operators' view
            if (!_groups.TryGetValue(group, out reader!))
            {
                reader = new GroupReader(this, group);
                _groups[group] = reader;
            }
        }

        var consumer = new SqliteConsumer(this, reader, spec);
        reader.Add(consumer);
        return new ValueTask<IConsumer>(consumer);
    }

    /// <summary>Forgets a group reader whose last member left.</summary>
    public void Forget(GroupReader reader)
    {
        lock (_lock)
        {
            if (!reader.HasMembers && _groups.TryGetValue(reader.Group, out GroupReader? current) && ReferenceEquals(current, reader))
            {
                _groups.Remove(reader.Group);
            }
        }
    }

    /// <summary>Stores an event no consumer can read as a dead letter, with the reason.</summary>
    public Task DeadLetterUndecodableAsync(StoredMessage message, string consumer, Exception exception, CancellationToken cancellationToken)
    {
        byte[] stored = message.Envelope ?? throw new ArgumentException("The message's stored bytes were not read.", nameof(message));
        string now = Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        string eventId = TryReadId(stored);
        return Writer.EnqueueAsync(WriteOp.Of(tx => SqliteDeadLetterStore.Insert(
            tx,
            id: Guid.CreateVersion7().ToString(),
            consumer,
            message.Topic,
            reason: "poison",
            exception.GetType().FullName,
            $"Stored event at position {message.Position} (id {eventId}) cannot be decoded: {exception.Message}",
            attempts: 1,
            now,
            stored))).WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        GroupReader[] readers;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            readers = [.. _groups.Values];
            _groups.Clear();
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (GroupReader reader in readers)
        {
            await reader.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
#pragma warning disable VSTHRD003 // the transport's own loops
            await Task.WhenAll(_scheduler, _retention).ConfigureAwait(false);
#pragma warning restore VSTHRD003
        }
        catch (OperationCanceledException)
        {
            // stopping
        }

        if (_ownsDatabase)
        {
            await Database.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>Stored all the same (a group may register for it later, and retention deletes it), but counted, logged and metered.</summary>
    private void ReportIfUnrouted(Envelope envelope)
    {
        if (!_routed.IsRouted(envelope.Type))
        {
            _context.ReportUnrouted(envelope);
        }
    }

    private static string TryReadId(byte[] envelope)
    {
        try
        {
            return EnvelopeCodec.Decode(envelope).Id;
        }
        catch (EventDecodingException)
        {
            return "unknown";
        }
    }

    private void RegisterGroup(string group, ConsumerSpec spec)
    {
        string now = Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        Database.WriteGate.Wait();
        try
        {
            using SqliteConnection connection = Database.Open();
            using SqliteTransaction tx = connection.BeginTransaction();
            GroupReader.Register(tx, group, now);
            GroupReader.RegisterMember(tx, group, spec, Owner, now);
            tx.Commit();
            _routed.Refresh(connection);
        }
        finally
        {
            Database.WriteGate.Release();
        }
    }

    /// <summary>
    /// Deletes what nobody needs any more, in chunks so the writer is never held long: messages at or below every
    /// consumer group's checkpoint (a group registered in the file holds the log back until it reads on, even while
    /// its process is away), and inbox entries older than <see cref="SqliteOptions.InboxRetention"/>.
    /// </summary>
    /// <returns>How many rows were deleted.</returns>
    internal async Task<long> RunRetentionAsync()
    {
        TimeSpan keep = Database.Options.InboxRetention;
        long? cutoff = keep == Timeout.InfiniteTimeSpan ? null : Time.GetUtcNow().Subtract(keep).ToUnixTimeMilliseconds();
        long deleted = 0;
        int last;
        do
        {
            last = 0;
            await Writer.EnqueueAsync(WriteOp.Of(tx =>
            {
                using SqliteCommand messages = tx.Connection!.CreateCommand();
                messages.Transaction = tx;
                messages.CommandText = """
                    DELETE FROM herald_messages WHERE position IN (
                        SELECT position FROM herald_messages
                        WHERE position <= (SELECT coalesce(min(checkpoint), 0) FROM herald_groups)
                        ORDER BY position LIMIT $n)
                    """;
                messages.Parameters.AddWithValue("$n", RetentionChunk);
                last = messages.ExecuteNonQuery();
                if (cutoff is not null)
                {
                    using SqliteCommand inbox = tx.Connection!.CreateCommand();
                    inbox.Transaction = tx;
                    inbox.CommandText = "DELETE FROM herald_inbox_records WHERE (event_id, consumer) IN (SELECT event_id, consumer FROM herald_inbox_records WHERE time < $t LIMIT $n)";
                    inbox.Parameters.AddWithValue("$t", cutoff);
                    inbox.Parameters.AddWithValue("$n", RetentionChunk);
                    last += inbox.ExecuteNonQuery();
                }
            })).ConfigureAwait(false);
            deleted += last;
        }
        while (last >= RetentionChunk);

        return deleted;
    }

    private async Task RetentionLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Database.Options.RetentionInterval, Time, stop).ConfigureAwait(false);
                await RunRetentionAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is SqliteException or ObjectDisposedException or InvalidOperationException)
            {
                SqliteLog.RetentionFailed(Logger, ex);
            }
        }
    }

    /// <summary>Moves delayed events that fell due into the log, in due order, one transaction per pass.</summary>
    private async Task SchedulerLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        using SqliteConnection connection = Database.Open();
        using SqliteCommand next = connection.CreateCommand();
        next.CommandText = "SELECT min(due) FROM herald_scheduled";
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Database.Options.PollInterval, Time, stop).ConfigureAwait(false);
                _routed.Refresh(connection); // groups other processes registered
                long now = Time.GetUtcNow().ToUnixTimeMilliseconds();
                if (next.ExecuteScalar() is not long due || due > now)
                {
                    continue; // nothing due: no write transaction (and no fsync) for nothing
                }

                await Writer.EnqueueAsync(WriteOp.Of(tx =>
                {
                    SqliteDatabase.Execute(
                        tx,
                        """
                        INSERT INTO herald_messages (event_id, topic, subject, target, envelope)
                        SELECT event_id, topic, subject, target, envelope FROM herald_scheduled WHERE due <= $n ORDER BY due, seq;
                        DELETE FROM herald_scheduled WHERE due <= $n;
                        """,
                        ("$n", now));
                })).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is SqliteException or ObjectDisposedException or InvalidOperationException)
            {
                SqliteLog.SchedulerFailed(Logger, ex);
            }
        }
    }
}
