using System.Globalization;
using Herald.Dashboard.Systems;
using Herald.Postgres;
using Npgsql;

namespace Herald.Cli;

/// <summary>
/// A Herald schema in PostgreSQL as the operator sees it: the consumer groups with their waiting, claimed and delayed
/// rows, the dead letters (redriven to the failed consumer's group in one transaction), the event store, and a tap
/// (<see cref="PostgresTap"/>) that shows events as they are published: handled rows are deleted, so there is no log to
/// read back.
/// </summary>
internal sealed class PostgresSystem : HeraldSystem
{
    private const int TapRead = 1_000;

    private readonly EventBus _bus;
    private readonly PostgresTransport _transport;
    private readonly PostgresDatabase _database;
    private readonly PostgresDeadLetterStore _deadLetters;
    private readonly PostgresEventStore _store;
    private readonly string _name;
    private readonly string _schema;
    private readonly EventTap _seen = new(10_000, TimeProvider.System);
    private readonly SemaphoreSlim _tapping = new(1, 1);
    private PostgresTap? _tap;

    private PostgresSystem(EventBus bus, string name, string schema)
    {
        _bus = bus;
        _transport = (PostgresTransport)bus.Transport;
        _database = _transport.Database;
        _deadLetters = new PostgresDeadLetterStore(_database, ownsDatabase: false);
        _store = new PostgresEventStore(_database, ownsDatabase: false);
        _name = name;
        _schema = schema;
    }

    public override string Name => _name;

    public override bool HasLog => false;

    private string S => _database.Schema;

    /// <summary>
    /// Opens an existing Herald schema (never creates one: a mistyped <c>--schema</c> must not yield an empty one; an
    /// older one is brought forward, as the applications would).
    /// </summary>
    /// <exception cref="CliException">The connection string is not one, the server does not answer, or the schema is not Herald's.</exception>
    public static async Task<HeraldSystem> OpenAsync(string connectionString, string schema, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            // Npgsql's message names the keyword, never a value: a password is not echoed.
            throw CliException.Usage($"--postgres takes an Npgsql connection string such as \"Host=127.0.0.1;Port=5432;Username=app;Database=app\": {ex.Message}");
        }

        if (string.IsNullOrWhiteSpace(parsed.Host))
        {
            throw CliException.Usage("--postgres needs a Host in its connection string, such as \"Host=127.0.0.1;Port=5432;Username=app;Database=app\".");
        }

        string where = $"{parsed.Host}:{parsed.Port}/{parsed.Database ?? parsed.Username ?? "postgres"}";
        EventBus bus;
        try
        {
            bus = new EventBus(new EventBusOptions { Name = "herald-cli", Source = "urn:herald:cli" }.UsePostgres(new PostgresOptions { ConnectionString = connectionString, Schema = schema }));
        }
        catch (ArgumentException ex)
        {
            throw CliException.Usage(ex.Message);
        }

        var database = ((PostgresTransport)bus.Transport).Database;
        try
        {
            NpgsqlConnection connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var command = new NpgsqlCommand("SELECT to_regclass(format('%I.herald_schema', $1::text)) IS NOT NULL", connection);
                await using (command.ConfigureAwait(false))
                {
                    command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = schema });
                    if (!(bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
                    {
                        throw new CliException($"PostgreSQL at {where} has no Herald schema '{schema}'. Point --schema at the one the applications use (PostgresOptions.Schema, 'herald' by default); the command never creates one.");
                    }
                }
            }

            await database.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false); // refuses a newer Herald's, brings an older one forward
        }
        catch (Exception ex) when (ex is CliException or PostgresSchemaException or NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            await bus.DisposeAsync().ConfigureAwait(false);
            throw ex switch
            {
                CliException cli => cli,
                PostgresSchemaException schemaException => new CliException(schemaException.Message, schemaException),
                _ => new CliException($"PostgreSQL at {where} cannot be used: {ex.Message}", ex),
            };
        }

        return new PostgresSystem(bus, $"postgres {where} schema {schema}", schema);
    }

    public override async Task<long> GetHeadAsync(CancellationToken cancellationToken)
    {
        await TapAsync(cancellationToken).ConfigureAwait(false);
        return _seen.Head;
    }

    public override async Task<IReadOnlyList<ObservedEvent>> ReadEventsAsync(long after, int max, TopicPattern? pattern, CancellationToken cancellationToken)
    {
        await TapAsync(cancellationToken).ConfigureAwait(false);
        return _seen.Read(after, max, pattern);
    }

    public override async Task<IReadOnlyList<ObservedEvent>> ReadLatestAsync(int max, TopicPattern? pattern, CancellationToken cancellationToken)
    {
        await TapAsync(cancellationToken).ConfigureAwait(false);
        return _seen.ReadLatest(max, pattern);
    }

    /// <summary>One event the tap saw, or one still waiting in a group, with what became of it in each group that takes its topic.</summary>
    public override async Task<EventDetail?> GetEventAsync(string id, CancellationToken cancellationToken)
    {
        await TapAsync(cancellationToken).ConfigureAwait(false);
        ObservedEvent? found = _seen.Find(id);
        var rows = new List<(string Group, int Attempts, string? ClaimedBy, DateTime Due, bool Scheduled, byte[] Envelope)>();
        await _database.QueryRowsAsync(
            $"SELECT group_name, attempts, claimed_by, due, scheduled, envelope FROM {S}.messages WHERE event_id = $1 AND NOT starts_with(group_name, '{PostgresTap.Prefix}') ORDER BY seq",
            r => rows.Add((r.GetString(0), r.GetInt32(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetDateTime(3), r.GetBoolean(4), r.GetFieldValue<byte[]>(5))),
            cancellationToken,
            id).ConfigureAwait(false);
        if (found is null && rows.Count > 0)
        {
            found = new ObservedEvent(0, Decode(rows[0].Envelope, "unknown"));
        }

        if (found is null)
        {
            return null;
        }

        TopologyView topology = await GetTopologyAsync(cancellationToken).ConfigureAwait(false);
        var letters = new List<DeadLetter>();
        foreach (DeadLetter letter in await ListDeadLettersAsync(TopicPattern.Parse(found.Envelope.Type), 10_000, cancellationToken).ConfigureAwait(false))
        {
            if (letter.Envelope.Id == id)
            {
                letters.Add(letter);
            }
        }

        DateTime now = _database.Options.TimeProvider.GetUtcNow().UtcDateTime;
        var deliveries = new List<DeliveryView>();
        foreach (GroupView group in topology.ConsumersOf(found.Envelope.Type))
        {
            if (letters.FirstOrDefault(l => group.Members.Any(m => m.Name == l.Consumer)) is { } letter)
            {
                deliveries.Add(new DeliveryView(group.Name, "dead-lettered", letter.Attempts, $"{letter.Reason}: {letter.ExceptionType} {letter.ExceptionMessage}".Trim()));
            }
            else if (rows.FirstOrDefault(r => r.Group == group.Name) is { Envelope: not null } row)
            {
                deliveries.Add(row.ClaimedBy is { } member
                    ? new DeliveryView(group.Name, "claimed", row.Attempts, $"held by {member}")
                    : row.Due > now
                        ? new DeliveryView(group.Name, row.Scheduled ? "delayed" : "retrying", row.Attempts, $"due {row.Due:O}")
                        : new DeliveryView(group.Name, "pending", row.Attempts, $"{group.Depth} row(s) wait for the group"));
            }
            else
            {
                deliveries.Add(new DeliveryView(group.Name, "settled", null, "no row left for the group: handled (or registered after the publish)"));
            }
        }

        return new EventDetail(found, deliveries);
    }

    /// <summary>Publishes (committed when it returns); an event no group takes is a clear error, as on RabbitMQ and NATS.</summary>
    public override Task PublishAsync(Envelope envelope, CancellationToken cancellationToken) =>
        RoutedPublish.PublishAsync(
            _bus,
            envelope,
            $"No consumer group in schema '{_schema}' takes '{envelope.Type}' ({envelope.Id}): nobody handles it, and nothing was stored. "
            + "Check the topic, or start the application that subscribes to it (a group gets the events published after it registered).",
            cancellationToken);

    public override async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(TopicPattern? pattern, int max, CancellationToken cancellationToken) =>
        await _deadLetters.ListAsync(pattern, max, cancellationToken).ConfigureAwait(false);

    /// <summary>Ids and topics only, 1,000 rows a query, after the last sequence number seen.</summary>
    public override IAsyncEnumerable<(string Id, string Topic)> ListDeadLetterIdsAsync(TopicPattern? pattern, CancellationToken cancellationToken) =>
        PagedDeadLetterIdsAsync(
            async (after, count, ct) =>
            {
                var page = new List<(long Seq, string Id, string Topic)>(count);
                await _database.QueryRowsAsync(
                    $"SELECT seq, id, topic FROM {S}.dead_letters WHERE seq > $1 ORDER BY seq LIMIT $2",
                    r => page.Add((r.GetInt64(0), r.GetString(1), r.GetString(2))),
                    ct,
                    after,
                    (long)count).ConfigureAwait(false);
                return page;
            },
            pattern,
            cancellationToken);

    public override async Task<DeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken) =>
        await _deadLetters.GetAsync(id, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// A row for the group of the consumer that failed it (a first attempt) and the dead letter deleted, in one
    /// transaction: never both, never neither. Refused when no group has that consumer.
    /// </summary>
    public override async Task<bool> RedriveAsync(string id, CancellationToken cancellationToken)
    {
        if (await _deadLetters.GetAsync(id, cancellationToken).ConfigureAwait(false) is not { } letter)
        {
            return false;
        }

        (string Name, bool Ordered)? group = null;
        await _database.QueryRowsAsync(
            $"SELECT name, ordered FROM {S}.groups WHERE expires IS NULL AND ($1 = ANY (consumers) OR name = $1) ORDER BY (name = $1) DESC, name LIMIT 1",
            r => group = (r.GetString(0), r.GetBoolean(1)),
            cancellationToken,
            letter.Consumer).ConfigureAwait(false);
        if (group is not { } target)
        {
            throw new CliException($"Dead letter {id} was failed by consumer '{letter.Consumer}', which no consumer group in schema '{_schema}' has: start the consumer once (it registers its group), then redrive.");
        }

        Envelope envelope = letter.Envelope.WithAttempt(1);
        NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand(
                $"""
                WITH gone AS (DELETE FROM {S}.dead_letters WHERE id = @letter RETURNING id),
                     moved AS (INSERT INTO {S}.messages (group_name, event_id, topic, key, envelope) SELECT @group, @event, @topic, @key, @envelope FROM gone RETURNING seq)
                SELECT count(*) FROM moved;
                SELECT pg_notify(@channel, '');
                """,
                connection);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<string>("letter", id));
                command.Parameters.Add(new NpgsqlParameter<string>("group", target.Name));
                command.Parameters.Add(new NpgsqlParameter<string>("event", envelope.Id));
                command.Parameters.Add(new NpgsqlParameter<string>("topic", envelope.Type));
                command.Parameters.Add(new NpgsqlParameter("key", NpgsqlTypes.NpgsqlDbType.Text) { Value = target.Ordered ? (object?)envelope.Subject ?? DBNull.Value : DBNull.Value });
                command.Parameters.Add(new NpgsqlParameter<byte[]>("envelope", _transport.Formatter.Encode(envelope)));
                command.Parameters.Add(new NpgsqlParameter<string>("channel", _transport.NotifyChannel));
                return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0; // 0 when another redrive took it first
            }
        }
    }

    public override async Task<bool> PurgeAsync(string id, CancellationToken cancellationToken) =>
        await _deadLetters.RemoveAsync(id, cancellationToken).ConfigureAwait(false);

    /// <summary>The application's groups (not taps) with their rows by state and topic, their consumers and dead letters; topics from the tap.</summary>
    public override async Task<TopologyView> GetTopologyAsync(CancellationToken cancellationToken)
    {
        await TapAsync(cancellationToken).ConfigureAwait(false);
        var groups = new List<(string Name, string Pattern, bool Ordered, string[] Consumers)>();
        await _database.QueryRowsAsync(
            $"SELECT name, pattern, ordered, consumers FROM {S}.groups WHERE expires IS NULL ORDER BY name",
            r => groups.Add((r.GetString(0), r.GetString(1), r.GetBoolean(2), r.GetFieldValue<string[]>(3))),
            cancellationToken).ConfigureAwait(false);

        var byTopic = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        var states = new Dictionary<string, (long Ready, long Claimed, long Later, long Retried, string Members)>(StringComparer.Ordinal);
        await _database.QueryRowsAsync(
            $"SELECT group_name, topic, count(*) FROM {S}.messages WHERE group_name IN (SELECT name FROM {S}.groups WHERE expires IS NULL) GROUP BY group_name, topic",
            r =>
            {
                if (!byTopic.TryGetValue(r.GetString(0), out Dictionary<string, long>? topics))
                {
                    byTopic[r.GetString(0)] = topics = new Dictionary<string, long>(StringComparer.Ordinal);
                }

                topics[r.GetString(1)] = r.GetInt64(2);
            },
            cancellationToken).ConfigureAwait(false);
        await _database.QueryRowsAsync(
            $"""
            SELECT group_name,
                   count(*) FILTER (WHERE claimed_by IS NULL AND due <= now()),
                   count(*) FILTER (WHERE claimed_by IS NOT NULL),
                   count(*) FILTER (WHERE claimed_by IS NULL AND due > now()),
                   count(*) FILTER (WHERE attempts > 0),
                   coalesce(string_agg(DISTINCT claimed_by, ', '), '')
            FROM {S}.messages WHERE group_name IN (SELECT name FROM {S}.groups WHERE expires IS NULL) GROUP BY group_name
            """,
            r => states[r.GetString(0)] = (r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetString(5)),
            cancellationToken).ConfigureAwait(false);
        var dead = new Dictionary<string, long>(StringComparer.Ordinal);
        await _database.QueryRowsAsync($"SELECT consumer, count(*) FROM {S}.dead_letters GROUP BY consumer", r => dead[r.GetString(0)] = r.GetInt64(1), cancellationToken).ConfigureAwait(false);

        var views = new List<GroupView>();
        foreach ((string name, string pattern, bool ordered, string[] consumers) in groups)
        {
            string[] members = consumers.Length == 0 ? [name] : consumers;
            Dictionary<string, long> depth = byTopic.GetValueOrDefault(name) ?? new Dictionary<string, long>(StringComparer.Ordinal);
            (long ready, long claimed, long later, long retried, string? claimers) = states.GetValueOrDefault(name);
            views.Add(new GroupView(name, depth.Values.Sum(), null, string.IsNullOrEmpty(claimers) ? null : claimers, [.. members.Select(m => new MemberView(m, pattern, null))], depth)
            {
                Details = new Dictionary<string, string>
                {
                    ["ready"] = Text(ready),
                    ["claimed"] = Text(claimed),
                    ["delayed"] = Text(later),
                    ["retried"] = Text(retried),
                    ["dead letters"] = Text(members.Sum(m => dead.GetValueOrDefault(m))),
                    ["ordered"] = ordered ? "by key" : "no",
                },
            });
        }

        return new TopologyView(_seen.Topics(), views);
    }

    /// <summary>
    /// Published: the events the tap has seen. Handled: rows deleted from the messages table (handled, dead-lettered
    /// or pruned) by the database's statistics, less the tap's own, so an approximate count that lags about a second.
    /// </summary>
    public override async Task<Counters> ReadCountersAsync(CancellationToken cancellationToken)
    {
        await TapAsync(cancellationToken).ConfigureAwait(false);
        long deleted = 0;
        await _database.QueryRowsAsync(
            "SELECT coalesce(n_tup_del, 0) FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'messages'",
            r => deleted = r.GetInt64(0),
            cancellationToken,
            _schema).ConfigureAwait(false);
        return new Counters(_seen.Head, Math.Max(0, deleted - (_tap?.Taken ?? 0)), []);
    }

    public override async Task<IReadOnlyList<StreamView>> ListStreamsAsync(int max, CancellationToken cancellationToken)
    {
        var streams = new List<StreamView>();
        await _database.QueryRowsAsync(
            $"SELECT stream_id, version, deleted FROM {S}.streams ORDER BY stream_id LIMIT $1",
            r => streams.Add(new StreamView(r.GetString(0), r.GetInt64(1), r.GetBoolean(2))),
            cancellationToken,
            (long)max).ConfigureAwait(false);
        return streams;
    }

    public override Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, long fromVersion, int max, CancellationToken cancellationToken) =>
        _store.ReadStreamAsync(streamId, fromVersion, ReadDirection.Forwards, max, cancellationToken);

    public override async ValueTask DisposeAsync()
    {
        if (_tap is not null)
        {
            await _tap.DisposeAsync().ConfigureAwait(false);
        }

        _tapping.Dispose();
        await _store.DisposeAsync().ConfigureAwait(false);
        await _bus.DisposeAsync().ConfigureAwait(false); // the transport owns the database
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Opens the tap at the first read, then moves what it took since into the events seen.</summary>
    private async Task TapAsync(CancellationToken cancellationToken)
    {
        await _tapping.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _tap ??= await PostgresTap.OpenAsync(_database, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<(long Seq, string Topic, byte[] Envelope)> taken;
            do
            {
                taken = await _tap.TakeAsync(TapRead, cancellationToken).ConfigureAwait(false);
                foreach ((long _, string topic, byte[] stored) in taken)
                {
                    _seen.Add(Decode(stored, topic));
                }
            }
            while (taken.Count == TapRead);
        }
        finally
        {
            _tapping.Release();
        }
    }

    private static Envelope Decode(byte[] stored, string topic)
    {
        try
        {
            return CloudEventJsonFormatter.Decode(stored);
        }
        catch (EventDecodingException ex)
        {
            return Envelope.Undecodable(Topic.IsValid(topic) ? topic : "herald.undecodable", stored, TimeProvider.System.GetUtcNow(), ex.Message);
        }
    }
}
