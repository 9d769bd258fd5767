using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>
/// Reads the message log for one consumer group and hands each matching event to one member of the group in this
/// process. The group's checkpoint (in <c>herald_groups</c>) is the position below which every event is settled; it
/// moves only over acknowledged (or skipped) positions, so after a crash every unacknowledged event is read again
/// (at least once; the inbox makes the effect once). One process reads a group at a time, under a lease it renews;
/// another process takes the group over when the lease runs out, or at once when the holder's process is gone.
/// </summary>
internal sealed class GroupReader : IAsyncDisposable
{
    private const int BatchSize = 256;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    private readonly SqliteTransport _transport;
    private readonly Lock _lock = new();
    private readonly Queue<long> _order = new();
    private readonly HashSet<long> _acked = [];
    private readonly CancellationTokenSource _stop = new();
    private SqliteConsumer[] _members = [];
    private long _lastRead;
    private long _head;
    private long _persisted;
    private long _nextMember;
    private bool _owned;
    private long _leaseDeadline;
    private int _epoch;
    private Task _readLoop = Task.CompletedTask;

    /// <summary>The read loop's statements, prepared once for the loop's connection (null until first used).</summary>
    private SqliteCommand? _read;
    private SqliteCommand? _readWithInbox;
    private SqliteCommand? _readEnvelope;
    private Task _flushLoop = Task.CompletedTask;

    public GroupReader(SqliteTransport transport, string group)
    {
        _transport = transport;
        Group = group;
    }

    public string Group { get; }

    private SqliteOptions Options => _transport.Database.Options;

    private TimeProvider Time => Options.TimeProvider;

    /// <summary>The highest position below which everything is settled, as known in this process.</summary>
    public long SafeCheckpoint
    {
        get
        {
            lock (_lock)
            {
                return _order.Count == 0 ? _lastRead : _order.Peek() - 1;
            }
        }
    }

    public bool HasMembers => Volatile.Read(ref _members).Length > 0;

    /// <summary>
    /// Log positions past the last one this process read for the group, as of the last flush tick (every 100 ms): what
    /// waits for it in the file beyond its members' lanes. An upper bound (rows aimed at other groups count too); 0 while
    /// another process holds the group.
    /// </summary>
    public long Backlog
    {
        get
        {
            if (!Volatile.Read(ref _owned))
            {
                return 0;
            }

            lock (_lock)
            {
                return Math.Max(0, Volatile.Read(ref _head) - _lastRead);
            }
        }
    }

    public void Add(SqliteConsumer member)
    {
        lock (_lock)
        {
            _members = [.. _members, member];
            if (_members.Length == 1)
            {
                _readLoop = Task.Run(ReadLoopAsync);
                _flushLoop = Task.Run(FlushLoopAsync);
            }
        }
    }

    /// <summary>Removes a member; the last one out stops the loops, writes the checkpoint and gives the lease back.</summary>
    public async ValueTask RemoveAsync(SqliteConsumer member)
    {
        bool last;
        lock (_lock)
        {
            _members = [.. _members.Where(m => !ReferenceEquals(m, member))];
            last = _members.Length == 0;
        }

        if (last)
        {
            await DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Ack(long position)
    {
        lock (_lock)
        {
            if (_order.Count == 0 || position < _order.Peek())
            {
                return; // settled already, or read under a lease since lost and re-read from an earlier checkpoint
            }

            _acked.Add(position);
            while (_order.Count > 0 && _acked.Remove(_order.Peek()))
            {
                _order.Dequeue();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
#pragma warning disable VSTHRD003 // this reader's own loops
            await Task.WhenAll(_readLoop, _flushLoop).ConfigureAwait(false);
#pragma warning restore VSTHRD003
        }
        catch (OperationCanceledException)
        {
            // stopping
        }

        if (_owned)
        {
            try
            {
                await FlushAsync(release: true).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // the writer stopped first (transport disposal): the checkpoint of the last flush stands
            }
        }

        _stop.Dispose();
    }

    /// <summary>Registers the group in the file (starting at the end of the log: it receives what is published from now on).</summary>
    internal static void Register(SqliteTransaction tx, string group, string now) =>
        SqliteDatabase.Execute(
            tx,
            "INSERT INTO herald_groups (name, checkpoint, created) VALUES ($g, (SELECT coalesce(max(position), 0) FROM herald_messages), $t) ON CONFLICT (name) DO NOTHING",
            ("$g", group),
            ("$t", now));

    /// <summary>Records a member of the group (its name, pattern and event type) for the operators' view of the file.</summary>
    internal static void RegisterMember(SqliteTransaction tx, string group, Herald.Transport.ConsumerSpec spec, string owner, string now) =>
        SqliteDatabase.Execute(
            tx,
            """
            INSERT INTO herald_members (grp, name, pattern, event_type, owner, seen) VALUES ($g, $n, $p, $e, $o, $t)
            ON CONFLICT (grp, name) DO UPDATE SET pattern = excluded.pattern, event_type = excluded.event_type, owner = excluded.owner, seen = excluded.seen
            """,
            ("$g", group),
            ("$n", spec.Name),
            ("$p", spec.Pattern.Value),
            ("$e", spec.EventType?.FullName),
            ("$o", owner),
            ("$t", now));

    private async Task ReadLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        using SqliteConnection connection = _transport.Database.Open();
        using SqliteCommand readAll = Prepare(connection, $"SELECT position, topic, target, envelope, 1 FROM herald_messages WHERE position > $p ORDER BY position LIMIT {BatchSize}", ("$p", SqliteType.Integer));
        using SqliteCommand readWithInbox = Prepare(
            connection,
            $"SELECT m.position, m.topic, m.target, m.envelope, EXISTS (SELECT 1 FROM herald_inbox_records i WHERE i.event_id = m.event_id AND i.consumer = (SELECT id FROM herald_consumers WHERE name = $c)) FROM herald_messages m WHERE m.position > $p ORDER BY m.position LIMIT {BatchSize}",
            ("$p", SqliteType.Integer),
            ("$c", SqliteType.Text));
        using SqliteCommand readEnvelope = Prepare(connection, "SELECT envelope FROM herald_messages WHERE position = $p", ("$p", SqliteType.Integer));
        (_read, _readWithInbox, _readEnvelope) = (readAll, readWithInbox, readEnvelope);
        long cursor = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!Volatile.Read(ref _owned))
                {
                    long asked = Time.GetTimestamp();
                    long? checkpoint = await TryAcquireAsync().ConfigureAwait(false);
                    if (checkpoint is null)
                    {
                        await Task.Delay(TimeSpan.FromTicks(Math.Min(Options.GroupLease.Ticks / 4, TimeSpan.TicksPerSecond)), Time, stop).ConfigureAwait(false);
                        continue;
                    }

                    cursor = checkpoint.Value;
                    lock (_lock)
                    {
                        _order.Clear();
                        _acked.Clear();
                        _lastRead = cursor;
                        _persisted = cursor;
                        _epoch++;
                        Volatile.Write(ref _leaseDeadline, LeaseDeadline(asked));
                        Volatile.Write(ref _owned, true);
                    }

                    SqliteLog.LeaseAcquired(_transport.Logger, Group, _transport.Owner, cursor);
                }

                Task changed = _transport.Committed.Current;
                int read = 0;
                int epoch = _epoch;
                long snapshot = _transport.Database.InboxHints.Snapshot(); // before the read: see InboxHints
                string? consumer = InboxConsumer();
                foreach (StoredMessage message in ReadBatch(cursor, consumer))
                {
                    if (!HoldsLease() || epoch != _epoch)
                    {
                        break; // read again from the checkpoint once the lease is ours again
                    }

                    read++;
                    await DispatchAsync(message, consumer, snapshot, stop).ConfigureAwait(false);
                    cursor = message.Position; // only once it is settled or handed on: a failure reads it again
                }

                if (read < BatchSize)
                {
                    await ChangeSignal.WaitAsync(changed, Options.PollInterval, Time, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is SqliteException or InvalidOperationException or IOException or StoredBytesUnreadableException)
            {
                SqliteLog.GroupFailed(_transport.Logger, ex, Group);
                await Task.Delay(Options.PollInterval, Time, stop).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Whether this process may dispatch: it holds the lease and, by its own clock, the lease has not run out (a
    /// renewal that came late must not let two processes read the group at once). A lapsed lease is let go here.
    /// </summary>
    private bool HoldsLease()
    {
        if (!Volatile.Read(ref _owned))
        {
            return false;
        }

        if (Time.GetTimestamp() < Volatile.Read(ref _leaseDeadline))
        {
            return true;
        }

        Volatile.Write(ref _owned, false);
        SqliteLog.LeaseLost(_transport.Logger, Group);
        ForgetHints(); // another process may now handle and record what waits in the lanes
        return false;
    }

    /// <summary>When a lease asked for at <paramref name="askedAt"/> runs out, less a margin for clock drift between processes.</summary>
    private long LeaseDeadline(long askedAt) =>
        askedAt + (long)(Options.GroupLease.TotalSeconds * 0.8 * Time.TimestampFrequency);

    /// <summary>
    /// The next rows after <paramref name="after"/>; with <paramref name="consumer"/>, whether the inbox holds a record of
    /// it for each row's event id, looked up in the same statement (the inbox step's lookup is then answered from here).
    /// A row another reader of this process has decoded (or is decoding) is taken without its stored bytes: the
    /// readers of one commit read the same rows, and the bytes are needed only by the one that decodes.
    /// </summary>
    private List<StoredMessage> ReadBatch(long after, string? consumer)
    {
        SqliteCommand command = consumer is null ? _read! : _readWithInbox!;
        command.Parameters["$p"].Value = after;
        if (consumer is not null)
        {
            command.Parameters["$c"].Value = consumer;
        }

        bool shared = SharedEventType(out Type? wanted); // the type every member reads rows as: what a held row is kept as
        var messages = new List<StoredMessage>(BatchSize);
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            long position = reader.GetInt64(0);
            byte[]? envelope = shared && _transport.Decoded.Holds(position, wanted) ? null : (byte[])reader.GetValue(3);
            messages.Add(new StoredMessage(position, reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), envelope, reader.GetInt64(4) != 0));
        }

        return messages;
    }

    /// <summary>
    /// <paramref name="message"/> with its stored bytes, read now when <see cref="ReadBatch"/> left them. A failure to read
    /// them is the database's, not the event's: it is never taken for a poison event (the group's loop logs it and reads
    /// again from its cursor).
    /// </summary>
    /// <exception cref="StoredBytesUnreadableException">The row could not be read, or is gone.</exception>
    private StoredMessage WithEnvelope(StoredMessage message)
    {
        if (message.Envelope is not null)
        {
            return message;
        }

        byte[]? stored;
        try
        {
            SqliteCommand command = _readEnvelope!;
            command.Parameters["$p"].Value = message.Position;
            stored = command.ExecuteScalar() as byte[];
        }
        catch (SqliteException ex)
        {
            throw new StoredBytesUnreadableException($"The message at position {message.Position} could not be read again: {ex.Message}", ex);
        }

        return message with
        {
            Envelope = stored ?? throw new StoredBytesUnreadableException($"The message at position {message.Position} is no longer in the log.", null),
        };
    }

    /// <summary>Whether every member reads rows as one type (<paramref name="wanted"/>: null for untyped members).</summary>
    private bool SharedEventType(out Type? wanted)
    {
        SqliteConsumer[] members = Volatile.Read(ref _members);
        wanted = members.Length > 0 ? Wanted(members[0]) : null;
        foreach (SqliteConsumer member in members)
        {
            if (Wanted(member) != wanted)
            {
                return false;
            }
        }

        return members.Length > 0;
    }

    /// <summary>The type <paramref name="member"/> reads rows as (null: untyped).</summary>
    private static Type? Wanted(SqliteConsumer member) =>
        member.Spec.EventType is { } typed && typed != typeof(object) ? typed : null;

    /// <summary>A row's stored bytes could not be read again (see <see cref="WithEnvelope"/>).</summary>
    private sealed class StoredBytesUnreadableException(string message, Exception? inner) : Exception(message, inner);

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, params (string Name, SqliteType Type)[] parameters)
    {
        SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        foreach ((string name, SqliteType type) in parameters)
        {
            command.Parameters.Add(name, type);
        }

        return command;
    }

    /// <summary>Drops the inbox hints of this group's members (see <see cref="Herald.Transport.InboxHints"/>).</summary>
    private void ForgetHints()
    {
        foreach (SqliteConsumer member in Volatile.Read(ref _members))
        {
            _transport.Database.InboxHints.ForgetConsumer(member.Name);
        }
    }

    /// <summary>The one consumer name of this group's members in this process (the inbox's key), or null when they differ.</summary>
    private string? InboxConsumer()
    {
        SqliteConsumer[] members = Volatile.Read(ref _members);
        if (members.Length == 0)
        {
            return null;
        }

        string name = members[0].Name;
        return Array.TrueForAll(members, m => m.Name == name) ? name : null;
    }

    private async ValueTask DispatchAsync(StoredMessage message, string? consumer, long snapshot, CancellationToken stop)
    {
        // A position is registered (in order) only when nothing can fail any more before it is settled or handed to a
        // member: one registered and then abandoned by a failure would hold the checkpoint back for good.
        SqliteConsumer? member = message.Target is { } target && target != Group ? null : Pick(message.Topic);
        if (member is null)
        {
            Register(message.Position);
            Ack(message.Position); // not for this group: settled at once
            return;
        }

        Envelope envelope;
        Type? wanted = Wanted(member);
        try
        {
            envelope = _transport.Decoded.GetOrDecode(message.Position, wanted, (this, message, wanted, _transport.Codec), static state =>
            {
                (GroupReader reader, StoredMessage message, Type? wanted, EnvelopeCodec codec) = state;
                Envelope decoded = EnvelopeCodec.Decode(reader.WithEnvelope(message).Envelope!);
                if (wanted is not null)
                {
                    return decoded.WithData(codec.DecodeData(decoded, wanted));
                }

                // An untyped reader (a pattern handler) gets the event type this process binds to the topic.
                return Topic.TryGetType(decoded.Type, out Type? known) ? decoded.WithData(codec.DecodeUntyped(decoded, known)) : decoded;
            });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not StoredBytesUnreadableException)
        {
            // A poison event of any kind (bytes that are not a CloudEvent, a payload its type refuses): dead-lettered
            // with its reason, and the group carries on.
            await _transport.DeadLetterUndecodableAsync(WithEnvelope(message), member.Name, ex, stop).ConfigureAwait(false);
            SqliteLog.UndecodableDeadLettered(_transport.Logger, message.Position, member.Name, ex.Message);
            Register(message.Position);
            Ack(message.Position);
            return;
        }

        Register(message.Position);
        bool hinted = !message.Recorded && consumer == member.Name;
        if (hinted)
        {
            _transport.Database.InboxHints.Unrecorded(member.Name, envelope.Id, snapshot);
        }
        else if (consumer == member.Name)
        {
            _transport.Database.InboxHints.Forget(member.Name, envelope.Id); // recorded: an older hint of this id no longer holds
        }

        try
        {
            await member.EnqueueAsync(envelope, message.Position, stop).ConfigureAwait(false);
        }
        catch when (hinted)
        {
            _transport.Database.InboxHints.Forget(member.Name, envelope.Id);
            throw;
        }
    }

    private void Register(long position)
    {
        lock (_lock)
        {
            _order.Enqueue(position);
            _lastRead = position;
        }
    }

    private SqliteConsumer? Pick(string topic)
    {
        SqliteConsumer[] members = Volatile.Read(ref _members);
        long start = _nextMember++;
        for (int i = 0; i < members.Length; i++)
        {
            SqliteConsumer member = members[(int)((start + i) % members.Length)];
            if (member.Spec.Pattern.IsMatch(topic))
            {
                return member;
            }
        }

        return null;
    }

    private async Task FlushLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        long renewed = Time.GetTimestamp();
        using SqliteConnection connection = _transport.Database.Open();
        using SqliteCommand head = connection.CreateCommand();
        head.CommandText = "SELECT coalesce(max(position), 0) FROM herald_messages";
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(FlushInterval, Time, stop).ConfigureAwait(false);
                Volatile.Write(ref _head, (long)head.ExecuteScalar()!); // the log's end, for the backlog gauge
                bool renewDue = Time.GetElapsedTime(renewed) >= Options.GroupLease / 3;
                if (Volatile.Read(ref _owned) && (SafeCheckpoint > Volatile.Read(ref _persisted) || renewDue))
                {
                    await FlushAsync(release: false).ConfigureAwait(false);
                    renewed = Time.GetTimestamp();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is SqliteException or InvalidOperationException or IOException)
            {
                SqliteLog.GroupFailed(_transport.Logger, ex, Group);
            }
        }
    }

    /// <summary>Writes the checkpoint and renews (or gives back) the lease, in the writer's next group commit.</summary>
    private async Task FlushAsync(bool release)
    {
        long checkpoint = SafeCheckpoint;
        string owner = _transport.Owner;
        long asked = Time.GetTimestamp();
        long? leaseUntil = release ? null : Time.GetUtcNow().Add(Options.GroupLease).ToUnixTimeMilliseconds();
        bool stillOwned = false;
        await _transport.Writer.EnqueueAsync(WriteOp.Of(tx =>
        {
            using SqliteCommand command = tx.Connection!.CreateCommand();
            command.Transaction = tx;
            command.CommandText = release
                ? "UPDATE herald_groups SET checkpoint = max(checkpoint, $c), owner = NULL, lease_until = NULL WHERE name = $g AND owner = $o"
                : "UPDATE herald_groups SET checkpoint = max(checkpoint, $c), lease_until = $l WHERE name = $g AND owner = $o";
            command.Parameters.AddWithValue("$c", checkpoint);
            command.Parameters.AddWithValue("$g", Group);
            command.Parameters.AddWithValue("$o", owner);
            command.Parameters.AddWithValue("$l", (object?)leaseUntil ?? DBNull.Value);
            stillOwned = command.ExecuteNonQuery() == 1;
        })).ConfigureAwait(false);

        if (stillOwned)
        {
            Volatile.Write(ref _persisted, checkpoint);
            if (!release)
            {
                Volatile.Write(ref _leaseDeadline, LeaseDeadline(asked));
            }
        }
        else if (!release)
        {
            Volatile.Write(ref _owned, false);
            SqliteLog.LeaseLost(_transport.Logger, Group);
            ForgetHints(); // another process may now handle and record what waits in the lanes
        }
    }

    /// <summary>Takes the group's lease when it is free, expired, ours, or held by a process of this machine that is gone; returns the checkpoint.</summary>
    private async Task<long?> TryAcquireAsync()
    {
        long now = Time.GetUtcNow().ToUnixTimeMilliseconds();
        long until = now + (long)Options.GroupLease.TotalMilliseconds;
        string owner = _transport.Owner;
        long? checkpoint = null;
        await _transport.Writer.EnqueueAsync(WriteOp.Of(tx =>
        {
            using SqliteCommand read = tx.Connection!.CreateCommand();
            read.Transaction = tx;
            read.CommandText = "SELECT owner, lease_until, checkpoint FROM herald_groups WHERE name = $g";
            read.Parameters.AddWithValue("$g", Group);
            string? holder;
            long holderUntil;
            long stored;
            using (SqliteDataReader row = read.ExecuteReader())
            {
                if (!row.Read())
                {
                    return;
                }

                holder = row.IsDBNull(0) ? null : row.GetString(0);
                holderUntil = row.IsDBNull(1) ? 0 : row.GetInt64(1);
                stored = row.GetInt64(2);
            }

            if (holder is not null && holder != owner && holderUntil > now && IsAlive(holder))
            {
                return;
            }

            SqliteDatabase.Execute(
                tx,
                "UPDATE herald_groups SET owner = $o, lease_until = $l WHERE name = $g",
                ("$o", owner),
                ("$l", until),
                ("$g", Group));
            checkpoint = stored;
        })).ConfigureAwait(false);
        return checkpoint;
    }

    /// <summary>False only when the holder names a process of this machine that no longer runs.</summary>
    private static bool IsAlive(string holder)
    {
        string[] parts = holder.Split(':');
        if (parts.Length < 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out int pid))
        {
            return true; // another machine (a shared volume) or an unknown form: trust the lease time
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
