using System.Data.Common;
using Herald.Transport;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Herald.Postgres;

/// <summary>
/// The durable bus on PostgreSQL, shared by every process that uses the schema. A publish writes one row per consumer
/// group whose pattern matches (routed in SQL against the groups table, so a group registered by any process gets the
/// events published after it), in a group commit with the publishes made at the same time, and completes once that
/// commit is durable; a <c>NOTIFY</c> sent after the commit wakes the other processes' members, polling covers a lost one. Members of
/// a group compete for its rows (<see cref="PostgresConsumer"/>). A publish in the caller's transaction (the outbox) is
/// written in that transaction: it is delivered when, and only if, the caller commits.
/// </summary>
internal sealed class PostgresTransport : ITransport, IDelayedPublish, ITransactionalPublish
{
    private const int MaxBatch = 512;

    private readonly PostgresDatabase _database;
    private readonly TransportContext _context;
    private readonly bool _ownsDatabase;
    private readonly GroupCommit<Pending, bool> _publishes;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<PostgresConsumer> _consumers = [];
    private static readonly TimeSpan WriterIdle = TimeSpan.FromMinutes(1);
    private NpgsqlConnection? _writer; // the publish writer's own (one batch at a time)
    private NpgsqlConnection? _notifyConnection; // the notifier's own (one notification at a time)
    private static readonly TimeSpan NotifyStream = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan NotifyCoalesce = TimeSpan.FromMilliseconds(2);
    private int _notifyState; // 0 idle, 1 sending, 2 sending and one more asked for
    private long _notified;
    private Task? _notifier;
    private long _writerUsed;
    private Task? _listener;
    private bool _disposed;

    public PostgresTransport(PostgresDatabase database, TransportContext context, bool ownsDatabase)
    {
        _database = database;
        _context = context;
        _ownsDatabase = ownsDatabase;
        Formatter = new CloudEventJsonFormatter(database.Options.Serializer);
        _publishes = new GroupCommit<Pending, bool>(MaxBatch, WriteAsync, database.Options.TimeProvider);
    }

    public PostgresDatabase Database => _database;

    public CloudEventJsonFormatter Formatter { get; }

    public ILogger Logger => _context.Logger;

    public TimeProvider Time => _database.Options.TimeProvider;

    /// <summary>The channel members listen on.</summary>
    public string NotifyChannel => "herald_" + _database.Options.Schema;

    private string S => _database.Schema;

    /// <inheritdoc />
    public ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken) => EnqueueAsync(envelope, due: null, cancellationToken);

    /// <summary>A delayed publish: stored now with the time it comes due (durable: it survives restarts).</summary>
    public ValueTask ScheduleAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken) => EnqueueAsync(envelope, due, cancellationToken);

    /// <summary>The outbox: written in the caller's transaction, delivered once it commits (and never if it rolls back).</summary>
    /// <exception cref="ArgumentException">Not an open <see cref="NpgsqlTransaction"/> on this database.</exception>
    public async ValueTask PublishAsync(Envelope envelope, DbTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(transaction);
        NpgsqlTransaction tx = _database.CallerTransaction(transaction, nameof(transaction));
        await _database.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        Pending[] one = [new Pending(envelope, null, Formatter.Encode(envelope))];
        await InsertAsync(tx.Connection!, tx, one, notify: true, cancellationToken).ConfigureAwait(false); // delivered when the caller commits
    }

    private async ValueTask EnqueueAsync(Envelope envelope, DateTimeOffset? due, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
        }

        await _publishes.WriteAsync(new Pending(envelope, due, Formatter.Encode(envelope)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Group commit: whatever waits is written in one batch; each publish completes when it is durable.</summary>
    private async Task<IReadOnlyList<bool>> WriteAsync(IReadOnlyList<Pending> batch)
    {
        try
        {
            await _database.EnsureSchemaAsync(_stop.Token).ConfigureAwait(false);

            // The writer keeps its connection between batches (a pooled one is reset at each return, statements the
            // server runs before the next publish), and replaces it after a failure or a minute unused (as the pool
            // would prune it).
            if (_writer is not null && Time.GetElapsedTime(_writerUsed) > WriterIdle)
            {
                await DropWriterAsync().ConfigureAwait(false);
            }

            _writer ??= await _database.DataSource.OpenConnectionAsync(_stop.Token).ConfigureAwait(false);
            _writerUsed = Time.GetTimestamp();

            // One statement: one round trip, one implicit transaction, committed (and flushed) when it returns.
            await InsertAsync(_writer, null, batch, notify: false, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await DropWriterAsync().ConfigureAwait(false);
            throw new PostgresPublishException($"PostgreSQL did not store {batch.Count} publish(es) (the first: {batch[0].Envelope.Id}, '{batch[0].Envelope.Type}'): {ex.Message}", ex);
        }

        RingAll(); // this process's members need no notification
        RequestNotify(); // the other processes' do, now that the rows are committed
        return new bool[batch.Count];
    }

    private async Task DropWriterAsync()
    {
        if (_writer is { } writer)
        {
            _writer = null;
            await writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One row per event and matching group, in publish order, and a notification when asked; unrouted events are
    /// reported. A group's pattern without wildcards is matched by equality, one with wildcards by its expression:
    /// PostgreSQL keeps 32 compiled expressions per connection, and matched against more than that, every match
    /// recompiled one (~20x slower with 40 groups). Matching each distinct topic of a batch once instead cost a single
    /// publish about a tenth (a common table expression), so that is left for many wildcard groups (docs: Limits).
    /// </summary>
    private async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, IReadOnlyList<Pending> batch, bool notify, CancellationToken cancellationToken)
    {
        string[] ids = new string[batch.Count];
        string[] topics = new string[batch.Count];
        string?[] keys = new string?[batch.Count];
        byte[][] envelopes = new byte[batch.Count][];
        DateTime?[] dues = new DateTime?[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            ids[i] = batch[i].Envelope.Id;
            topics[i] = batch[i].Envelope.Type;
            keys[i] = batch[i].Envelope.Subject;
            envelopes[i] = batch[i].Encoded;
            dues[i] = batch[i].Due?.UtcDateTime;
        }

        var insert = new NpgsqlBatch(connection, tx)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(
                    $"""
                    INSERT INTO {S}.messages (group_name, event_id, topic, key, envelope, due, scheduled)
                    SELECT g.name, e.id, e.topic, CASE WHEN g.ordered THEN e.key END, e.envelope, coalesce(e.due, now()), e.due IS NOT NULL
                    FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::timestamptz[]) WITH ORDINALITY AS e(id, topic, key, envelope, due, n)
                    JOIN {S}.groups g ON (g.expires IS NULL OR g.expires > now())
                        AND CASE WHEN strpos(g.pattern, '*') = 0 AND strpos(g.pattern, '#') = 0 THEN e.topic = g.pattern ELSE '.' || e.topic ~ g.regex END
                    ORDER BY e.n, g.name
                    RETURNING event_id, group_name
                    """)
                {
                    Parameters =
                    {
                        new NpgsqlParameter<string[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                        new NpgsqlParameter<string[]> { TypedValue = topics, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                        new NpgsqlParameter<string?[]> { TypedValue = keys, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                        new NpgsqlParameter<byte[][]> { TypedValue = envelopes, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea },
                        new NpgsqlParameter<DateTime?[]> { TypedValue = dues, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
                    },
                },
            },
        };
        if (notify)
        {
            // In the transaction: a notification is delivered when (and only if) it commits.
            insert.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_notify($1, '')") { Parameters = { new NpgsqlParameter<string> { TypedValue = NotifyChannel } } });
        }

        await using (insert.ConfigureAwait(false))
        {
            var routed = new HashSet<string>(StringComparer.Ordinal);
            NpgsqlDataReader reader = await insert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (!PostgresTap.IsTap(reader.GetString(1))) // an operator watching is not a consumer
                    {
                        routed.Add(reader.GetString(0));
                    }
                }
            }

            foreach (Pending pending in batch)
            {
                if (!routed.Contains(pending.Envelope.Id))
                {
                    _context.ReportUnrouted(pending.Envelope);
                }
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask<IConsumer> SubscribeAsync(ConsumerSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Overflow != Overflow.Wait)
        {
            throw new NotSupportedException(
                $"Consumer '{spec.Name}' asks for Overflow.{spec.Overflow}, which the PostgreSQL transport cannot honour: its group's events wait in the database until a "
                + "member takes them, and a publish never waits for a consumer (Overflow.Wait, the default, is what it does). Remove the Overflow setting for this consumer.");
        }

        if (PostgresTap.IsTap(spec.GroupName))
        {
            throw new ArgumentException($"Consumer '{spec.Name}' names group '{spec.GroupName}': names starting with '{PostgresTap.Prefix}' are the herald command's taps. Choose another group name.", nameof(spec));
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
        }

        await RegisterGroupAsync(spec, cancellationToken).ConfigureAwait(false);
        var consumer = new PostgresConsumer(this, spec);
        lock (_lock)
        {
            if (_disposed)
            {
                throw new ObjectDisposedException(nameof(PostgresTransport));
            }

            _consumers.Add(consumer);
            _listener ??= Task.Run(ListenLoopAsync, CancellationToken.None);
        }

        consumer.Start();
        return consumer;
    }

    /// <summary>Registers the group (its pattern as an expression, whether it is ordered); members of one group must agree on both.</summary>
    private async Task RegisterGroupAsync(ConsumerSpec spec, CancellationToken cancellationToken)
    {
        NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand(
                $"""
                INSERT INTO {S}.groups AS g (name, pattern, regex, ordered, consumers) VALUES ($1, $2, $3, $4, ARRAY[$5]) ON CONFLICT (name) DO UPDATE
                    SET consumers = array_append(g.consumers, $5)
                    WHERE g.pattern = excluded.pattern AND g.ordered = excluded.ordered AND NOT ($5 = ANY (g.consumers))
                """,
                connection);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = spec.GroupName });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = spec.Pattern.Value });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PostgresPatterns.Regex(spec.Pattern) });
                command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = spec.Ordered });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = spec.Name });
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var check = new NpgsqlCommand($"SELECT pattern, ordered FROM {S}.groups WHERE name = $1", connection);
            await using (check.ConfigureAwait(false))
            {
                check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = spec.GroupName });
                NpgsqlDataReader reader = await check.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    string pattern = reader.GetString(0);
                    bool ordered = reader.GetBoolean(1);
                    if (pattern != spec.Pattern.Value || ordered != spec.Ordered)
                    {
                        throw new NotSupportedException(
                            $"Consumer '{spec.Name}' joins group '{spec.GroupName}' with pattern '{spec.Pattern}'{(spec.Ordered ? ", ordered by key" : "")}, but the group is registered "
                            + $"with '{pattern}'{(ordered ? ", ordered by key" : "")}: the members of a group share one pattern and one ordering. Give the consumer a group of its own.");
                    }
                }
            }
        }
    }

    /// <summary>Wakes this process's members when another process publishes (LISTEN); reconnects after a failure.</summary>
    private async Task ListenLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                NpgsqlConnection connection = await _database.DataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    try
                    {
                        connection.Notification += (_, _) => RingAll();
                        var listen = new NpgsqlCommand($"LISTEN {NotifyChannel}", connection);
                        await using (listen.ConfigureAwait(false))
                        {
                            await listen.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                        }

                        RingAll(); // what was published while not listening
                        long pruned = 0;
                        while (!stop.IsCancellationRequested)
                        {
                            await connection.WaitAsync(PostgresTap.PruneInterval, stop).ConfigureAwait(false);
                            if (Time.GetElapsedTime(pruned) >= PostgresTap.PruneInterval)
                            {
                                pruned = Time.GetTimestamp();
                                await PostgresTap.PruneAsync(connection, S, stop).ConfigureAwait(false); // taps whose herald command died
                            }
                        }
                    }
                    finally
                    {
                        await UnlistenAsync(connection).ConfigureAwait(false); // pooled connections are not reset: it goes back quiet
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                PostgresLog.ListenFailed(Logger, ex, NotifyChannel);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), Time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static async Task UnlistenAsync(NpgsqlConnection connection)
    {
        if (connection.FullState != System.Data.ConnectionState.Open)
        {
            return; // broken: not returned to the pool
        }

        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var unlisten = new NpgsqlCommand("UNLISTEN *", connection);
            await using (unlisten.ConfigureAwait(false))
            {
                await unlisten.ExecuteNonQueryAsync(bounded.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or InvalidOperationException or TimeoutException)
        {
            // the connection is unusable anyway
        }
    }

    /// <summary>
    /// Asks for one <c>NOTIFY</c> to wake the other processes' members, sent after the publishes' commit on the
    /// notifier's own connection: requests made while one is being sent are answered by one more, and in a stream of
    /// publishes the notifier waits 2 ms before sending, so one notification announces several publishes; the
    /// publishes' commits never wait for the notification queue's lock. A failed notification is covered by polling.
    /// </summary>
    private void RequestNotify()
    {
        while (true)
        {
            int state = Volatile.Read(ref _notifyState);
            if (state == 2)
            {
                return; // one more is already asked for
            }

            if (Interlocked.CompareExchange(ref _notifyState, state + 1, state) == state)
            {
                if (state == 0)
                {
                    _notifier = Task.Run(NotifyLoopAsync, CancellationToken.None);
                }

                return;
            }
        }
    }

    private async Task NotifyLoopAsync()
    {
        do
        {
            try
            {
                // In a stream of publishes (the last notification a moment ago), wait a little so that one notification
                // announces several; a publish after a quiet spell is announced at once.
                if (Time.GetElapsedTime(_notified) < NotifyStream)
                {
                    await Task.Delay(NotifyCoalesce, Time, _stop.Token).ConfigureAwait(false);
                }

                Interlocked.Exchange(ref _notifyState, 1); // the requests so far are answered by this one
                _notifyConnection ??= await _database.DataSource.OpenConnectionAsync(_stop.Token).ConfigureAwait(false);
                var notify = new NpgsqlCommand("SELECT pg_notify($1, '')", _notifyConnection);
                await using (notify.ConfigureAwait(false))
                {
                    notify.Parameters.Add(new NpgsqlParameter<string> { TypedValue = NotifyChannel });
                    await notify.ExecuteNonQueryAsync(_stop.Token).ConfigureAwait(false);
                }

                _notified = Time.GetTimestamp();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (_notifyConnection is { } broken)
                {
                    _notifyConnection = null;
                    await broken.DisposeAsync().ConfigureAwait(false);
                }

                if (_stop.IsCancellationRequested)
                {
                    Volatile.Write(ref _notifyState, 0);
                    return;
                }
            }
        }
        while (Interlocked.CompareExchange(ref _notifyState, 0, 1) != 1);
    }

    private void RingAll()
    {
        lock (_lock)
        {
            foreach (PostgresConsumer consumer in _consumers)
            {
                consumer.Wake();
            }
        }
    }

    public void Forget(PostgresConsumer consumer)
    {
        lock (_lock)
        {
            _consumers.Remove(consumer);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        PostgresConsumer[] consumers;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            consumers = [.. _consumers];
        }

        foreach (PostgresConsumer consumer in consumers)
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
        }

        // The publishes already taken are written (bounded by the connection's own timeouts), then the loops end.
#pragma warning disable VSTHRD003 // this transport's own loops
        await _publishes.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false); // the cancellation below fails what is left

        await _stop.CancelAsync().ConfigureAwait(false);
        await _publishes.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); // the writer's last batch ended, its connection free
        await DropWriterAsync().ConfigureAwait(false);
        if (_notifier is { } notifier)
        {
            try
            {
                await notifier.WaitAsync(TimeSpan.FromSeconds(5), Time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // the data source's disposal closes its connection
            }
        }

        if (_notifyConnection is { } notifyConnection)
        {
            await notifyConnection.DisposeAsync().ConfigureAwait(false);
        }
        if (_listener is { } listener)
        {
            try
            {
                await listener.WaitAsync(TimeSpan.FromSeconds(10), Time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // a LISTEN connection that does not close: the data source's disposal closes it
            }
        }
#pragma warning restore VSTHRD003

        if (_ownsDatabase)
        {
            await _database.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private sealed record Pending(Envelope Envelope, DateTimeOffset? Due, byte[] Encoded);
}
