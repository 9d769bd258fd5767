using System.Collections.Concurrent;
using System.Threading.Channels;
using Herald.Transport;
using Npgsql;
using NpgsqlTypes;

namespace Herald.Postgres;

/// <summary>
/// A member of a consumer group on PostgreSQL: it claims the group's due rows (<c>FOR UPDATE SKIP LOCKED</c>, a claim
/// lasting <see cref="PostgresOptions.ClaimLease"/>, renewed while held), so members in any number of processes share
/// the work; a member that dies has its claims taken over when they run out. Handled rows are deleted, released ones
/// put back, retried ones put back with the time they come due (stored: they survive restarts). In a group ordered by
/// key a row is claimed only when no earlier row of its key is left, so a key's events are handled one after another,
/// across processes and across retries. Settlements are written in batches, without waiting for the disk (a settlement
/// lost in a crash means a redelivery, which the inbox recognises).
/// </summary>
internal sealed class PostgresConsumer : LaneConsumer, IRedeliveryScheduler, IConsumerBacklog
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly PostgresTransport _transport;
    private readonly string _member = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly AsyncSignal _wake = new();
    private readonly AsyncSignal _room = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationToken _stopping;
    private readonly ConcurrentDictionary<long, byte> _outstanding = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _retries = new(StringComparer.Ordinal);
    private readonly Channel<Settlement> _settlements = Channel.CreateUnbounded<Settlement>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Task> _loops = [];
    private readonly string _claimSql;
    private readonly string _promoteSql;
    private Task? _settler;
    private long _backlog;
    private int _disposed;

    public PostgresConsumer(PostgresTransport transport, ConsumerSpec spec)
        : base(spec)
    {
        _transport = transport;
        _stopping = _stop.Token;
        string s = transport.Database.Schema;
        string order = spec.Ordered
            ? $"AND (m.key IS NULL OR NOT EXISTS (SELECT 1 FROM {s}.messages e WHERE e.group_name = m.group_name AND e.key = m.key AND e.seq < m.seq AND NOT e.scheduled))"
            : "";
        // A delayed publish waits outside the order (it blocks no key); when due it takes a new place at the end.
        _promoteSql = $"UPDATE {s}.messages SET seq = DEFAULT, scheduled = false WHERE group_name = $1 AND scheduled AND due <= now()";
        _claimSql =
            $"""
            WITH c AS (
                SELECT m.seq FROM {s}.messages m
                WHERE m.group_name = $1 AND NOT m.scheduled AND m.due <= now() AND (m.claimed_until IS NULL OR m.claimed_until < now()) {order}
                ORDER BY m.seq LIMIT $2 FOR UPDATE SKIP LOCKED)
            UPDATE {s}.messages m SET claimed_by = $3, claimed_until = now() + $4, attempts = m.attempts + 1
            FROM c WHERE m.group_name = $1 AND m.seq = c.seq
            RETURNING m.seq, m.topic, m.attempts, m.envelope, m.event_id, EXISTS (SELECT 1 FROM {s}.inbox i WHERE i.consumer = $5 AND i.event_id = m.event_id)
            """;
    }

    /// <summary>How many messages a member holds at most (claimed, not settled): ten per delivery loop, 32 at least, never more than the lanes hold.</summary>
    internal int MaxHeld => Math.Clamp(Math.Max(32, Spec.Concurrency * 10), 1, Spec.Capacity * Spec.Lanes);

    /// <summary>The group's rows no member has claimed, as of the last look (every five seconds: a count over the group's rows).</summary>
    public long Backlog => Interlocked.Read(ref _backlog);

    private string S => _transport.Database.Schema;

    private PostgresOptions Options => _transport.Database.Options;

    public void Start()
    {
        _settler = Task.Run(SettleLoopAsync, CancellationToken.None);
        _loops.Add(Task.Run(ClaimLoopAsync, CancellationToken.None));
        _loops.Add(Task.Run(RenewLoopAsync, CancellationToken.None));
        _loops.Add(Task.Run(BacklogLoopAsync, CancellationToken.None));
    }

    /// <summary>Something was published: look for work now.</summary>
    public void Wake() => _wake.Ring();

    private async Task ClaimLoopAsync()
    {
        CancellationToken stop = _stopping;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                // Refilled in batches (a quarter of the window at least), not one claim per settled delivery.
                int held = _outstanding.Count;
                int room = MaxHeld - held;
                if (room <= 0 || (held > 0 && room < MaxHeld / 4))
                {
                    await WaitAsync(_room, stop).ConfigureAwait(false);
                    continue;
                }

                int claimed = await ClaimAsync(room, stop).ConfigureAwait(false);
                if (claimed == 0)
                {
                    await WaitAsync(_wake, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                PostgresLog.ClaimFailed(_transport.Logger, ex, Name, RetryDelay);
                try
                {
                    await Task.Delay(RetryDelay, _transport.Time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Waits for <paramref name="signal"/>, at most PollInterval (a delayed row coming due, a lost notification).</summary>
    private async Task WaitAsync(AsyncSignal signal, CancellationToken stop)
    {
        try
        {
            await signal.WaitAsync(stop).WaitAsync(Options.PollInterval, _transport.Time, stop).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // look again
        }
    }

    private async Task<int> ClaimAsync(int max, CancellationToken stop)
    {
        var claimed = new List<(long Seq, string Topic, int Attempts, byte[] Envelope, bool Recorded)>();
        long snapshot;
        NpgsqlConnection connection = await _transport.Database.OpenAsync(stop).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            snapshot = _transport.Database.InboxHints.Snapshot(); // before the claim's statement: see InboxHints
            var command = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand(_promoteSql) { Parameters = { new NpgsqlParameter<string> { TypedValue = Spec.GroupName } } },
                    new NpgsqlBatchCommand(_claimSql)
                    {
                        Parameters =
                        {
                            new NpgsqlParameter<string> { TypedValue = Spec.GroupName },
                            new NpgsqlParameter<int> { TypedValue = max },
                            new NpgsqlParameter<string> { TypedValue = _member },
                            new NpgsqlParameter<TimeSpan> { TypedValue = Options.ClaimLease },
                            new NpgsqlParameter<string> { TypedValue = Spec.Name },
                        },
                    },
                },
            };
            await using (command.ConfigureAwait(false))
            {
                NpgsqlDataReader reader = await command.ExecuteReaderAsync(stop).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(stop).ConfigureAwait(false))
                    {
                        claimed.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), await reader.GetFieldValueAsync<byte[]>(3, stop).ConfigureAwait(false), reader.GetBoolean(5)));
                    }
                }
            }
        }

        claimed.Sort((a, b) => a.Seq.CompareTo(b.Seq)); // RETURNING has no order of its own
        foreach ((long seq, _, _, _, _) in claimed)
        {
            _outstanding[seq] = 0; // held from now: renewed, and released at a stop whatever happens below
        }

        int dispatched = 0;
        try
        {
            for (; dispatched < claimed.Count; dispatched++)
            {
                if (!await DispatchAsync(claimed[dispatched], snapshot, stop).ConfigureAwait(false))
                {
                    return claimed.Count; // stopping: still outstanding, released at the stop
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !stop.IsCancellationRequested)
        {
            // A poison row that could not be moved (the database away): it and the rows after it go back at once,
            // not held (and renewed) by a member that will not handle them.
            foreach ((long seq, _, _, _, _) in claimed.Skip(dispatched))
            {
                if (_outstanding.TryRemove(seq, out _))
                {
                    _settlements.Writer.TryWrite(new Settlement(seq, SettleKind.Release, null, -1));
                }
            }

            throw;
        }

        return claimed.Count;
    }

    /// <summary>Decodes a claimed row into the lanes, or moves it to the dead letters; false when the member is stopping.</summary>
    private async Task<bool> DispatchAsync((long Seq, string Topic, int Attempts, byte[] Envelope, bool Recorded) row, long snapshot, CancellationToken stop)
    {
        (long seq, string topic, int attempts, byte[] stored, bool recorded) = row;
        {
            Envelope envelope;
            try
            {
                envelope = CloudEventJsonFormatter.Decode(stored).WithAttempt(attempts);
                if (Spec.EventType is { } type && type != typeof(object))
                {
                    envelope = envelope.WithData(_transport.Formatter.DecodeData(envelope, type));
                }
                else if (Topic.TryGetType(envelope.Type, out Type? known))
                {
                    envelope = envelope.WithData(_transport.Formatter.DecodeUntyped(envelope, known));
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Poison of any kind (not a CloudEvent, a payload its type refuses): dead-lettered with its reason, and
                // the group carries on.
                await DeadLetterPoisonAsync(seq, topic, attempts, ex, stop).ConfigureAwait(false);
                return true;
            }

            if (!recorded)
            {
                // The claim looked in the inbox too (the same statement): the inbox's lookup for this delivery is answered from here.
                _transport.Database.InboxHints.Unrecorded(Spec.Name, envelope.Id, snapshot);
            }
            else
            {
                _transport.Database.InboxHints.Forget(Spec.Name, envelope.Id); // recorded: an older hint of this id no longer holds
            }

            try
            {
                await Lanes.WriteAsync(envelope, seq, stop).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
            {
                _transport.Database.InboxHints.Forget(Spec.Name, envelope.Id);
                return false;
            }
        }
    }

    /// <summary>The poison row moved to the dead letters, in one transaction (never lost between the two).</summary>
    private async Task DeadLetterPoisonAsync(long seq, string topic, int attempts, Exception reason, CancellationToken stop)
    {
        NpgsqlConnection connection = await _transport.Database.OpenAsync(stop).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand(
                $"""
                WITH moved AS (DELETE FROM {S}.messages WHERE group_name = @group AND seq = @seq AND claimed_by = @member RETURNING envelope)
                INSERT INTO {S}.dead_letters (id, consumer, topic, reason, exception_type, exception_message, attempts, time, envelope)
                    SELECT @id, @consumer, @topic, 'poison', @type, @message, @attempts, @time, envelope FROM moved;
                """,
                connection);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.AddWithValue("id", Guid.CreateVersion7().ToString());
                command.Parameters.AddWithValue("consumer", Name);
                command.Parameters.AddWithValue("topic", topic);
                command.Parameters.AddWithValue("type", reason.GetType().FullName ?? reason.GetType().Name);
                command.Parameters.AddWithValue("message", reason.Message);
                command.Parameters.AddWithValue("attempts", attempts);
                command.Parameters.AddWithValue("time", _transport.Time.GetUtcNow());
                command.Parameters.AddWithValue("seq", seq);
                command.Parameters.AddWithValue("member", _member);
                command.Parameters.AddWithValue("group", Spec.GroupName);
                await command.ExecuteNonQueryAsync(stop).ConfigureAwait(false); // one statement: the move is atomic
            }
        }

        _outstanding.TryRemove(seq, out _);
        PostgresLog.PoisonDeadLettered(_transport.Logger, Name, seq, topic, reason.Message);
    }

    /// <summary>A redrive: a row for this group alone.</summary>
    public override async ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        NpgsqlConnection connection = await _transport.Database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand(
                $"INSERT INTO {S}.messages (group_name, event_id, topic, key, envelope) VALUES (@group, @id, @topic, @key, @envelope); SELECT pg_notify(@channel, '')",
                connection);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<string>("group", Spec.GroupName));
                command.Parameters.Add(new NpgsqlParameter<string>("id", envelope.Id));
                command.Parameters.Add(new NpgsqlParameter<string>("topic", envelope.Type));
                command.Parameters.Add(new NpgsqlParameter("key", NpgsqlDbType.Text) { Value = Spec.Ordered ? (object?)envelope.Subject ?? DBNull.Value : DBNull.Value });
                command.Parameters.Add(new NpgsqlParameter<byte[]>("envelope", _transport.Formatter.Encode(envelope.WithAttempt(1))));
                command.Parameters.Add(new NpgsqlParameter<string>("channel", _transport.NotifyChannel));
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        Wake();
    }

    /// <summary>A stored retry: the row is put back with the time it comes due when the delivery is settled (it keeps its place in its key's order).</summary>
    public ValueTask ScheduleRedeliveryAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        _retries[envelope.Id] = due;
        return ValueTask.CompletedTask;
    }

    public override async ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken)
    {
        _transport.Database.InboxHints.Forget(Spec.Name, delivery.Envelope.Id); // not asked for (a handler without the inbox)
        long seq = delivery.Tag;
        if (kind == SettleKind.Requeue)
        {
            // Retried in place (its claim renewed meanwhile): a key's later events wait behind it.
            await Lanes.WriteAsync(delivery.Envelope.WithAttempt(delivery.Attempt + 1), seq, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!_outstanding.TryRemove(seq, out _))
        {
            _retries.TryRemove(delivery.Envelope.Id, out _); // its retry goes with it
            return; // released at a stop already
        }

        Settlement settlement = kind == SettleKind.Ack
            ? _retries.TryRemove(delivery.Envelope.Id, out DateTimeOffset due)
                ? new Settlement(seq, SettleKind.Release, due, delivery.Attempt) // the next claim makes it the next attempt
                : new Settlement(seq, SettleKind.Ack, null, 0)
            : new Settlement(seq, SettleKind.Release, null, -1); // put back: the claim's attempt is not counted
        if (!_settlements.Writer.TryWrite(settlement))
        {
            return; // stopping: the claim runs out and the row comes again
        }

        _room.Ring();
    }

    /// <summary>Writes settlements in batches: deletes, and put-backs (now, or when a retry comes due, with the attempts so far).</summary>
    private async Task SettleLoopAsync()
    {
        ChannelReader<Settlement> reader = _settlements.Reader;
        var batch = new List<Settlement>();
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < 1000 && reader.TryRead(out Settlement next))
            {
                batch.Add(next);
            }

            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await SettleAsync(batch).ConfigureAwait(false);
                    _wake.Ring(); // a key unblocked, a row put back: look now
                    break;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    if (attempt == 3)
                    {
                        PostgresLog.SettleFailed(_transport.Logger, ex, Name, batch.Count);
                        break;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), _transport.Time, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task SettleAsync(List<Settlement> batch)
    {
        long[] done = [.. batch.Where(b => b.Kind == SettleKind.Ack).Select(b => b.Seq)];
        Settlement[] back = [.. batch.Where(b => b.Kind != SettleKind.Ack)];
        using var timeout = new CancellationTokenSource(StopTimeout, _transport.Time);
        NpgsqlConnection connection = await _transport.Database.OpenAsync(timeout.Token).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand(
                $"""
                SELECT set_config('synchronous_commit', 'off', true);
                DELETE FROM {S}.messages WHERE group_name = @group AND seq = ANY(@done) AND claimed_by = @member;
                UPDATE {S}.messages m SET claimed_by = NULL, claimed_until = NULL, due = coalesce(b.due, m.due),
                        attempts = CASE WHEN b.attempts < 0 THEN greatest(m.attempts - 1, 0) ELSE b.attempts END
                    FROM unnest(@back, @dues, @attempts) AS b(seq, due, attempts)
                    WHERE m.group_name = @group AND m.seq = b.seq AND m.claimed_by = @member;
                """ + (back.Length > 0 || Spec.Ordered ? "SELECT pg_notify(@channel, '');" : string.Empty), // only when it makes work for the other members: rows back, or a key's next row claimable
                connection);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<long[]>("done", done));
                command.Parameters.Add(new NpgsqlParameter<string>("group", Spec.GroupName));
                command.Parameters.Add(new NpgsqlParameter<string>("member", _member));
                command.Parameters.Add(new NpgsqlParameter<string>("channel", _transport.NotifyChannel)); // the other members: keys unblocked, rows back
                command.Parameters.Add(new NpgsqlParameter<long[]>("back", [.. back.Select(b => b.Seq)]));
                command.Parameters.Add(new NpgsqlParameter<DateTime?[]>("dues", [.. back.Select(b => b.Due?.UtcDateTime)]) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
                command.Parameters.Add(new NpgsqlParameter<int[]>("attempts", [.. back.Select(b => b.Attempts)]));
                await command.ExecuteNonQueryAsync(timeout.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Renews the claims this member holds every third of the lease, so a long handler or an in-place retry keeps its message.</summary>
    private async Task RenewLoopAsync()
    {
        CancellationToken stop = _stopping;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Options.ClaimLease / 3, _transport.Time, stop).ConfigureAwait(false);
                long[] held = [.. _outstanding.Keys];
                if (held.Length == 0)
                {
                    continue;
                }

                NpgsqlConnection connection = await _transport.Database.OpenAsync(stop).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    var command = new NpgsqlCommand($"UPDATE {S}.messages SET claimed_until = now() + $1 WHERE group_name = $4 AND seq = ANY($2) AND claimed_by = $3", connection);
                    await using (command.ConfigureAwait(false))
                    {
                        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = Options.ClaimLease });
                        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = held });
                        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _member });
                        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Spec.GroupName });
                        await command.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // the database away (or anything else): the next round tries again (claims last a whole lease)
            }
        }
    }

    private async Task BacklogLoopAsync()
    {
        CancellationToken stop = _stopping;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                NpgsqlConnection connection = await _transport.Database.OpenAsync(stop).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    var command = new NpgsqlCommand($"SELECT count(*) FROM {S}.messages WHERE group_name = $1 AND claimed_by IS NULL", connection);
                    await using (command.ConfigureAwait(false))
                    {
                        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Spec.GroupName });
                        Interlocked.Exchange(ref _backlog, (long)(await command.ExecuteScalarAsync(stop).ConfigureAwait(false))!);
                    }
                }

                await Task.Delay(TimeSpan.FromSeconds(5), _transport.Time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // the database away (or anything else): keep the last value
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), _transport.Time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        bool ended = true;
        try
        {
#pragma warning disable VSTHRD003 // this consumer's own loops
            await Task.WhenAll(_loops).WaitAsync(StopTimeout, _transport.Time).ConfigureAwait(false);
#pragma warning restore VSTHRD003
        }
        catch (TimeoutException)
        {
            ended = false;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            PostgresLog.ClaimFailed(_transport.Logger, ex, Name, TimeSpan.Zero); // a loop that failed must not stop the stop
        }

        Lanes.Complete();
        _transport.Forget(this);

        _transport.Database.InboxHints.ForgetConsumer(Spec.Name); // deliveries left in the lanes: claimed again elsewhere, looked at again

        // What was claimed and not settled goes back at once (not when its claim runs out), without counting an attempt.
        foreach (long seq in _outstanding.Keys)
        {
            if (_outstanding.TryRemove(seq, out _))
            {
                _settlements.Writer.TryWrite(new Settlement(seq, SettleKind.Release, null, -1));
            }
        }

        _settlements.Writer.TryComplete();
        if (_settler is { } settler)
        {
            try
            {
#pragma warning disable VSTHRD003 // this consumer's own loop
                await settler.WaitAsync(StopTimeout, _transport.Time).ConfigureAwait(false);
#pragma warning restore VSTHRD003
            }
            catch (TimeoutException)
            {
                ended = false; // the database away: the claims run out and the rows come again
            }
        }

        if (ended)
        {
            _stop.Dispose();
        }
    }

    public override string ToString() => $"{Name} ({Spec.Pattern}, group {Spec.GroupName}, PostgreSQL)";

    /// <param name="Seq">The row.</param>
    /// <param name="Kind">Ack deletes it; anything else puts it back.</param>
    /// <param name="Due">When it comes due again (a retry), or null for now.</param>
    /// <param name="Attempts">The attempts it has had (the next claim adds one); -1 for a release: the claim's attempt taken back.</param>
    private readonly record struct Settlement(long Seq, SettleKind Kind, DateTimeOffset? Due, int Attempts);
}
