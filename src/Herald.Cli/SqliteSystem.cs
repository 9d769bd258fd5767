using System.Globalization;
using Herald.Dashboard.Systems;
using Herald.Sqlite;
using Microsoft.Data.Sqlite;

namespace Herald.Cli;

/// <summary>
/// A Herald SQLite file as the operator sees it: the message log (events by position), consumer groups and their
/// members, the inbox, dead letters and the event store. Reads go straight to the file (WAL: they never block the
/// application's writers); publishes and redrives are committed like the application's own.
/// </summary>
internal sealed class SqliteSystem : HeraldSystem
{
    private const int TopicWindow = 100_000;
    private readonly SqliteDatabase _database;
    private readonly SqliteDeadLetterStore _deadLetters;
    private readonly EnvelopeCodec _codec;
    private readonly string _file;
    private SqliteEventStore? _store;
    private long _inboxSeen; // Unix milliseconds of the newest inbox record counted
    private readonly HashSet<(string EventId, long Consumer)> _seenAtNewest = []; // the records counted at that millisecond
    private long _handled;

    private SqliteSystem(SqliteDatabase database, string file)
    {
        _database = database;
        _file = file;
        _deadLetters = new SqliteDeadLetterStore(database);
        _codec = new EnvelopeCodec(database.Options.Serializer);
        _inboxSeen = Now().ToUnixTimeMilliseconds();
    }

    public override string Name => $"sqlite {_file}";

    public override bool HasLog => true;

    /// <summary>Opens an existing Herald file (never creates one: a mistyped path must not yield an empty database).</summary>
    /// <exception cref="CliException">No such file, or not a Herald database.</exception>
    public static SqliteSystem Open(string file)
    {
        if (!File.Exists(file))
        {
            throw new CliException($"No such file: '{file}'. Point --sqlite at the Herald database of an application (the sample's is herald.db next to its binary).");
        }

        var database = new SqliteDatabase(new SqliteOptions { ConnectionString = new SqliteConnectionStringBuilder { DataSource = file }.ToString() });
        try
        {
            using (database.Open())
            {
                // checks the file is Herald's (and brings an older schema forward)
            }
        }
        catch (HeraldDatabaseException ex)
        {
            database.Dispose();
            throw new CliException(ex.Message, ex);
        }

        return new SqliteSystem(database, file);
    }

    public override Task<long> GetHeadAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Convert.ToInt64(_database.Scalar("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'herald_messages'), 0)"), CultureInfo.InvariantCulture));

    public override Task<IReadOnlyList<ObservedEvent>> ReadEventsAsync(long after, int max, TopicPattern? pattern, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ObservedEvent>>(Read(forwards: true, after, max, pattern, cancellationToken));

    public override Task<IReadOnlyList<ObservedEvent>> ReadLatestAsync(int max, TopicPattern? pattern, CancellationToken cancellationToken)
    {
        List<ObservedEvent> newest = Read(forwards: false, long.MaxValue, max, pattern, cancellationToken);
        newest.Reverse();
        return Task.FromResult<IReadOnlyList<ObservedEvent>>(newest);
    }

    public override async Task<EventDetail?> GetEventAsync(string id, CancellationToken cancellationToken)
    {
        ObservedEvent? found = null;
        using (SqliteConnection connection = _database.Open())
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = "SELECT position, topic, envelope FROM herald_messages WHERE event_id = $i AND target IS NULL ORDER BY position LIMIT 1";
            command.Parameters.AddWithValue("$i", id);
            using SqliteDataReader reader = command.ExecuteReader();
            if (reader.Read())
            {
                found = new ObservedEvent(reader.GetInt64(0), Decode(reader.GetString(1), (byte[])reader[2]));
            }
        }

        if (found is null)
        {
            return null;
        }

        TopologyView topology;
        using (SqliteConnection connection = _database.Open())
        {
            topology = new TopologyView([], Groups(connection)); // who should see it; the topics' rates are not needed here
        }

        IReadOnlyList<DeadLetter> letters = _deadLetters.OfEvent(found.Envelope.Id); // in SQL: not every dead letter of the topic loaded
        var deliveries = new List<DeliveryView>();
        foreach (GroupView group in topology.ConsumersOf(found.Envelope.Type))
        {
            foreach (MemberView member in group.Members.Where(m => TopicPattern.TryParse(m.Pattern, out TopicPattern? p) && p.IsMatch(found.Envelope.Type)))
            {
                deliveries.Add(Delivery(group, member, found, letters));
            }
        }

        return new EventDetail(found, deliveries);
    }

    public override Task PublishAsync(Envelope envelope, CancellationToken cancellationToken) =>
        _database.Writer.EnqueueAsync(new InsertMessageOp(envelope.Id, envelope.Type, envelope.Subject, null, _codec.Encode(envelope))).WaitAsync(cancellationToken);

    public override async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(TopicPattern? pattern, int max, CancellationToken cancellationToken) =>
        await _deadLetters.ListAsync(pattern, max, cancellationToken).ConfigureAwait(false);

    /// <summary>Ids and topics only (no envelope), 1,000 rows a query, after the last sequence number seen.</summary>
    public override IAsyncEnumerable<(string Id, string Topic)> ListDeadLetterIdsAsync(TopicPattern? pattern, CancellationToken cancellationToken) =>
        PagedDeadLetterIdsAsync(
            (after, count, _) =>
            {
                var page = new List<(long Seq, string Id, string Topic)>(count);
                using SqliteConnection connection = _database.Open();
                using SqliteCommand command = connection.CreateCommand();
                command.CommandText = "SELECT seq, id, topic FROM herald_dead_letters WHERE seq > $s ORDER BY seq LIMIT $n";
                command.Parameters.AddWithValue("$s", after);
                command.Parameters.AddWithValue("$n", count);
                using SqliteDataReader reader = command.ExecuteReader();
                while (reader.Read())
                {
                    page.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
                }

                return Task.FromResult<IReadOnlyList<(long Seq, string Id, string Topic)>>(page);
            },
            pattern,
            cancellationToken);

    public override async Task<DeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken) =>
        await _deadLetters.GetAsync(id, cancellationToken).ConfigureAwait(false);

    /// <summary>Appends the event for the failed consumer's group alone (a first attempt) and removes the dead letter, in one commit.</summary>
    public override async Task<bool> RedriveAsync(string id, CancellationToken cancellationToken)
    {
        if (await _deadLetters.GetAsync(id, cancellationToken).ConfigureAwait(false) is not { } letter)
        {
            return false;
        }

        string group = _database.Scalar("SELECT grp FROM herald_members WHERE name = $n ORDER BY seen DESC LIMIT 1", ("$n", letter.Consumer)) as string ?? letter.Consumer;
        Envelope envelope = letter.Envelope.WithAttempt(1);
        byte[] encoded = _codec.Encode(envelope);
        bool removed = false;
        await _database.Writer.EnqueueAsync(WriteOp.Of(tx =>
        {
            removed = Convert.ToInt64(_database.Scalar(tx, "SELECT count(*) FROM herald_dead_letters WHERE id = $i", ("$i", id)), CultureInfo.InvariantCulture) == 1;
            if (removed)
            {
                _database.Writer.InsertMessage(tx, envelope.Id, envelope.Type, envelope.Subject, group, encoded);
                SqliteDatabase.Execute(tx, "DELETE FROM herald_dead_letters WHERE id = $i", ("$i", id));
            }
        })).WaitAsync(cancellationToken).ConfigureAwait(false);
        return removed;
    }

    public override async Task<bool> PurgeAsync(string id, CancellationToken cancellationToken) =>
        await _deadLetters.RemoveAsync(id, cancellationToken).ConfigureAwait(false);

    public override Task<TopologyView> GetTopologyAsync(CancellationToken cancellationToken)
    {
        using SqliteConnection connection = _database.Open();
        return Task.FromResult(new TopologyView(Topics(connection), Groups(connection)));
    }

    /// <summary>The consumer groups with their members, checkpoints, current readers and depth per topic.</summary>
    private List<GroupView> Groups(SqliteConnection connection)
    {
        var members = new Dictionary<string, List<MemberView>>(StringComparer.Ordinal);
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = "SELECT grp, name, pattern, event_type FROM herald_members ORDER BY grp, name";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                string group = reader.GetString(0);
                if (!members.TryGetValue(group, out List<MemberView>? list))
                {
                    members[group] = list = [];
                }

                list.Add(new MemberView(reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
            }
        }

        long now = Now().ToUnixTimeMilliseconds();
        var groups = new List<GroupView>();
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = "SELECT name, checkpoint, owner, lease_until FROM herald_groups ORDER BY name";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                string name = reader.GetString(0);
                long checkpoint = reader.GetInt64(1);
                string? owner = !reader.IsDBNull(2) && !reader.IsDBNull(3) && reader.GetInt64(3) > now ? reader.GetString(2) : null;
                IReadOnlyList<MemberView> groupMembers = members.TryGetValue(name, out List<MemberView>? list) ? list : [];
                Dictionary<string, long> depth = DepthByTopic(connection, name, checkpoint, groupMembers);
                groups.Add(new GroupView(name, depth.Values.Sum(), checkpoint, owner, groupMembers, depth));
            }
        }

        return groups;
    }

    public override Task<Counters> ReadCountersAsync(CancellationToken cancellationToken)
    {
        long published = Convert.ToInt64(_database.Scalar("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'herald_messages'), 0)"), CultureInfo.InvariantCulture);
        var latencies = new List<double>();
        using SqliteConnection connection = _database.Open();
        using SqliteCommand command = connection.CreateCommand();
        // From the newest millisecond counted, not after it: a record made in that millisecond may commit after the last
        // read (many records share a millisecond); the ones counted there already are skipped.
        command.CommandText = "SELECT event_id, consumer, time FROM herald_inbox_records WHERE time >= $t ORDER BY time";
        command.Parameters.AddWithValue("$t", _inboxSeen);
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            string eventId = reader.GetString(0);
            long time = reader.GetInt64(2);
            if (time > _inboxSeen)
            {
                _inboxSeen = time;
                _seenAtNewest.Clear();
            }

            if (!_seenAtNewest.Add((eventId, reader.GetInt64(1))))
            {
                continue; // counted by an earlier read
            }

            _handled++;
            if (UuidTime(eventId) is { } published7)
            {
                latencies.Add(Math.Max(0, (DateTimeOffset.FromUnixTimeMilliseconds(time) - published7).TotalMilliseconds));
            }
        }

        return Task.FromResult(new Counters(published, _handled, latencies));
    }

    public override Task<IReadOnlyList<StreamView>> ListStreamsAsync(int max, CancellationToken cancellationToken)
    {
        using SqliteConnection connection = _database.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT stream_id, version, deleted FROM herald_streams ORDER BY stream_id LIMIT $n";
        command.Parameters.AddWithValue("$n", max);
        var streams = new List<StreamView>();
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            streams.Add(new StreamView(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2) != 0));
        }

        return Task.FromResult<IReadOnlyList<StreamView>>(streams);
    }

    public override Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, long fromVersion, int max, CancellationToken cancellationToken)
    {
        _store ??= new SqliteEventStore(_database, ownsDatabase: false);
        return _store.ReadStreamAsync(streamId, fromVersion, ReadDirection.Forwards, max, cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        _store?.Dispose();
        await _database.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The millisecond time in a UUIDv7 (Herald's event ids), or null for other ids.</summary>
    internal static DateTimeOffset? UuidTime(string id)
    {
        if (id.Length != 36 || id[14] != '7' || !long.TryParse(string.Concat(id.AsSpan(0, 8), id.AsSpan(9, 4)), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long ms))
        {
            return null;
        }

        return DateTimeOffset.FromUnixTimeMilliseconds(ms);
    }

    private bool Handled(string consumer, string eventId) =>
        _database.Scalar("SELECT 1 FROM herald_inbox_records WHERE event_id = $i AND consumer = (SELECT id FROM herald_consumers WHERE name = $c)", ("$c", consumer), ("$i", eventId)) is not null;

    private DeliveryView Delivery(GroupView group, MemberView member, ObservedEvent e, IReadOnlyList<DeadLetter> letters)
    {
        string consumer = group.Name == member.Name ? member.Name : $"{group.Name}/{member.Name}";
        if (letters.FirstOrDefault(l => l.Consumer == member.Name && l.Envelope.Id == e.Envelope.Id) is { } letter)
        {
            return new DeliveryView(consumer, "dead-lettered", letter.Attempts, $"{letter.Reason}: {letter.ExceptionType} {letter.ExceptionMessage}".Trim());
        }

        if (Handled(member.Name, e.Envelope.Id))
        {
            return new DeliveryView(consumer, "handled", null, "in the consumer's inbox");
        }

        return group.Checkpoint >= e.Position
            ? new DeliveryView(consumer, "delivered", null, "acknowledged by the group")
            : new DeliveryView(consumer, "pending", null, $"not read yet: {group.Depth} event(s) wait for the group");
    }

    /// <summary>
    /// Published events (not the redrives and retries aimed at one group) from <paramref name="from"/> on, forwards or
    /// backwards, a page of rows at a time until <paramref name="max"/> match <paramref name="pattern"/>.
    /// </summary>
    private List<ObservedEvent> Read(bool forwards, long from, int max, TopicPattern? pattern, CancellationToken cancellationToken)
    {
        const int Page = 1000;
        var found = new List<ObservedEvent>();
        using SqliteConnection connection = _database.Open();
        while (found.Count < max)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using SqliteCommand command = connection.CreateCommand();
            // A row larger than WholeRow comes as a preview built by SQLite (its id, key, time and the start of its
            // payload), so what a list costs follows the number of events, not their size; GetEventAsync reads one whole.
            command.CommandText = $"""
                SELECT position, topic, CASE WHEN length(envelope) <= $whole THEN envelope END, event_id, subject, length(envelope),
                       CASE WHEN length(envelope) > $whole AND json_valid(CAST(envelope AS TEXT)) THEN json_extract(CAST(envelope AS TEXT), '$.time') END,
                       CASE WHEN length(envelope) > $whole AND json_valid(CAST(envelope AS TEXT)) THEN substr(CAST(json_extract(CAST(envelope AS TEXT), '$.data') AS TEXT), 1, $preview) END
                FROM herald_messages WHERE position {(forwards ? ">" : "<")} $p AND target IS NULL ORDER BY position {(forwards ? string.Empty : "DESC")} LIMIT $n
                """;
            command.Parameters.AddWithValue("$p", from);
            command.Parameters.AddWithValue("$n", Page);
            command.Parameters.AddWithValue("$whole", WholeRow);
            command.Parameters.AddWithValue("$preview", PreviewChars);
            int read = 0;
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                read++;
                from = reader.GetInt64(0);
                if (found.Count < max && (pattern is null || pattern.IsMatch(reader.GetString(1))))
                {
                    found.Add(new ObservedEvent(from, reader.IsDBNull(2) ? Preview(reader) : Decode(reader.GetString(1), (byte[])reader[2])));
                }
            }

            if (read < Page)
            {
                break;
            }
        }

        return found;
    }

    /// <summary>Rows up to this size are read whole in lists; larger ones as a preview.</summary>
    internal const int WholeRow = 64 * 1024;

    /// <summary>How much of a large row's payload its preview keeps.</summary>
    private const int PreviewChars = 1024;

    /// <summary>The preview of a large row: id, topic, key, time, and the start of its payload, marked with its whole size.</summary>
    private Envelope Preview(SqliteDataReader row)
    {
        string topic = row.GetString(1);
        long size = row.GetInt64(5);
        DateTimeOffset time = !row.IsDBNull(6) && DateTimeOffset.TryParse(row.GetString(6), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTimeOffset t) ? t : Now();
        return new Envelope(Topic.IsValid(topic) ? topic : "herald.undecodable", null, time)
        {
            Id = row.IsDBNull(3) || row.GetString(3).Length == 0 ? "unknown" : row.GetString(3),
            Subject = row.IsDBNull(4) ? null : row.GetString(4),
            DataContentType = "text/plain",
            EncodedData = row.IsDBNull(7) ? ReadOnlyMemory<byte>.Empty : System.Text.Encoding.UTF8.GetBytes(row.GetString(7)),
            Headers = new Dictionary<string, string> { [ObservedEvent.PreviewHeader] = size.ToString(CultureInfo.InvariantCulture) },
        };
    }

    private Envelope Decode(string topic, byte[] stored)
    {
        try
        {
            return EnvelopeCodec.Decode(stored);
        }
        catch (EventDecodingException ex)
        {
            return Envelope.Undecodable(topic, stored, Now(), ex.Message);
        }
    }

    private static Dictionary<string, long> DepthByTopic(SqliteConnection connection, string group, long checkpoint, IReadOnlyList<MemberView> members)
    {
        var patterns = members.Select(m => TopicPattern.TryParse(m.Pattern, out TopicPattern? p) ? p : null).OfType<TopicPattern>().ToList();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT topic, count(*) FROM herald_messages WHERE position > $c AND (target IS NULL OR target = $g) GROUP BY topic";
        command.Parameters.AddWithValue("$c", checkpoint);
        command.Parameters.AddWithValue("$g", group);
        var depth = new Dictionary<string, long>(StringComparer.Ordinal);
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            string topic = reader.GetString(0);
            if (patterns.Count == 0 || patterns.Exists(p => p.IsMatch(topic)))
            {
                depth[topic] = reader.GetInt64(1);
            }
        }

        return depth;
    }

    /// <summary>Per topic over the newest part of the log: events held, the rate over the last minute, and their sources.</summary>
    private List<TopicView> Topics(SqliteConnection connection)
    {
        DateTimeOffset minuteAgo = Now().AddMinutes(-1);
        var topics = new Dictionary<string, (long Count, long LastMinute, SortedSet<string> Sources)>(StringComparer.Ordinal);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT topic, json_extract(CAST(envelope AS TEXT), '$.time'), json_extract(CAST(envelope AS TEXT), '$.source')
            FROM herald_messages
            WHERE target IS NULL AND position > (SELECT coalesce(max(position), 0) FROM herald_messages) - $w
            """;
        command.Parameters.AddWithValue("$w", TopicWindow);
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            string topic = reader.GetString(0);
            if (!topics.TryGetValue(topic, out var t))
            {
                t = (0, 0, new SortedSet<string>(StringComparer.Ordinal));
            }

            bool recent = !reader.IsDBNull(1) && DateTimeOffset.TryParse(reader.GetString(1), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTimeOffset time) && time >= minuteAgo;
            if (!reader.IsDBNull(2))
            {
                t.Sources.Add(reader.GetString(2));
            }

            topics[topic] = (t.Count + 1, t.LastMinute + (recent ? 1 : 0), t.Sources);
        }

        return [.. topics.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new TopicView(t.Key, t.Value.Count, t.Value.LastMinute / 60.0, [.. t.Value.Sources]))];
    }

    private DateTimeOffset Now() => _database.Options.TimeProvider.GetUtcNow();
}
