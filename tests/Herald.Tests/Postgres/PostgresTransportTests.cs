using System.Collections.Concurrent;
using Herald.Postgres;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace Herald.Tests.Postgres;

/// <summary>
/// The PostgreSQL transport on a real server, beyond the conformance suite: routing in SQL, competing members of one
/// group (each a bus of its own, as separate processes would be), per-key order across them and across retries, the
/// outbox and the inbox in the caller's transaction.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresTransportTests(PostgresServer server, ITestOutputHelper output)
{
    private const int Keys = 8;
    private readonly string _schema = $"t{Guid.NewGuid():N}"[..16];

    /// <summary>What the members handled, in the order they finished.</summary>
    public sealed class Log
    {
        public ConcurrentQueue<(string Member, string Key, long Id)> Entries { get; } = new();
    }

    public sealed record Member(string Name);

    /// <summary>Fails each event's first attempt, then records it.</summary>
    public sealed class FailsFirst(Log log, Member member) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            if (context.Attempt == 1)
            {
                throw new InvalidOperationException($"first attempt of {context.Event.Id}");
            }

            log.Entries.Enqueue((member.Name, context.Key!, context.Event.Id));
            return Task.CompletedTask;
        }
    }

    /// <summary>Takes a little while per event, and records it.</summary>
    public sealed class Slow(Log log, Member member) : IEventHandler<UserCreated>
    {
        public async Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            await Task.Delay(2, cancellationToken);
            log.Entries.Enqueue((member.Name, context.Key ?? "", context.Event.Id));
        }
    }

    private Task<HeraldTestHarness> StartAsync(string cs, Action<HeraldBuilder> handlers, Log log, string member) =>
        HeraldTestHarness.StartAsync(
            h =>
            {
                h.UsePostgres(cs, o => { o.Schema = _schema; o.PollInterval = TimeSpan.FromMilliseconds(50); });
                handlers(h);
            },
            s => s.AddSingleton(log).AddSingleton(new Member(member)));

    private static string KeyOf(long id) => $"k{id % Keys}";

    public static TheoryData<string, string> PatternsAndTopics => new()
    {
        { "user.created", "user.created" }, { "user.created", "user.deleted" }, { "user.*", "user.created" }, { "user.*", "user.created.late" },
        { "*.created", "order.created" }, { "order.#", "order.paid" }, { "order.#", "order.paid.late" }, { "order.#", "user.created" },
        { "order.paid.#", "order.paid" }, { "order.paid.#", "order.paid.x.y" }, { "order.paid.#", "order.paidx" }, { "#", "a.b" }, { "#", "a.b.c.d" },
        { "#.created", "user.created" }, { "#.created", "user.deleted" }, { "order.#.late", "order.late" }, { "order.#.late", "order.paid.late" },
        { "order.#.late", "order.paid" }, { "a-b.c_d", "a-b.c_d" }, { "a-b.c_d", "axb.c_d" },
    };

    /// <summary>Routing in SQL selects exactly what Herald's own matcher matches.</summary>
    [Theory]
    [MemberData(nameof(PatternsAndTopics))]
    public async Task PatternsAsExpressions_MatchWhatHeraldMatches(string pattern, string topic)
    {
        var parsed = TopicPattern.Parse(pattern);
        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT '.' || $1 ~ $2", connection);
        command.Parameters.AddWithValue(topic);
        command.Parameters.AddWithValue(PostgresPatterns.Regex(parsed));
        Assert.Equal(parsed.IsMatch(topic), (bool)(await command.ExecuteScalarAsync())!);
    }

    /// <summary>
    /// Routing through more groups than PostgreSQL keeps compiled expressions (32): every publish of a batch gets a row
    /// for exactly the groups whose pattern Herald's matcher says take its topic (the patterns table's pairs, each as a
    /// group of its own, plus literal groups), published together.
    /// </summary>
    [Fact]
    public async Task ManyGroups_WithAndWithoutWildcards_RouteEachEventToExactlyTheGroupsThatMatch()
    {
        string cs = await server.CreateDatabaseAsync("route");
        await using var bus = new EventBus(new EventBusOptions().UsePostgres(new PostgresOptions { ConnectionString = cs, Schema = _schema }));
        (string Pattern, string Topic)[] pairs = [.. PatternsAndTopics.Select(row => ((string)row[0], (string)row[1]))];
        string[] patterns = [.. pairs.Select(p => p.Pattern).Concat(Enumerable.Range(0, 30).Select(i => $"t{i}.*.x")).Concat(Enumerable.Range(0, 10).Select(i => $"lit{i}.created")).Distinct()];
        Assert.True(patterns.Length > 40);
        string[] topics = [.. pairs.Select(p => p.Topic).Concat(["t3.a.x", "t3.a.y", "lit4.created", "lit4.created.x"]).Distinct()];

        await using (var connection = new NpgsqlConnection(cs))
        {
            await connection.OpenAsync();
            await bus.PublishAsync(new Envelope("warm.up", null, DateTimeOffset.UnixEpoch)); // the schema made
            for (int i = 0; i < patterns.Length; i++)
            {
                await using var insert = new NpgsqlCommand($"INSERT INTO \"{_schema}\".groups (name, pattern, regex, ordered) VALUES ($1, $2, $3, false)", connection);
                insert.Parameters.AddWithValue($"g{i}");
                insert.Parameters.AddWithValue(patterns[i]);
                insert.Parameters.AddWithValue(PostgresPatterns.Regex(TopicPattern.Parse(patterns[i])));
                await insert.ExecuteNonQueryAsync();
            }

            Envelope[] events = [.. topics.SelectMany(t => Enumerable.Range(0, 3).Select(_ => new Envelope(t, null, DateTimeOffset.UnixEpoch)))];
            await Task.WhenAll(events.Select(e => bus.PublishAsync(e).AsTask())); // group-committed together

            var rows = new HashSet<(string Group, string EventId)>();
            await using (var read = new NpgsqlCommand($"SELECT group_name, event_id FROM \"{_schema}\".messages", connection))
            await using (NpgsqlDataReader reader = await read.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    Assert.True(rows.Add((reader.GetString(0), reader.GetString(1))), "a row twice");
                }
            }

            var expected = new HashSet<(string, string)>();
            foreach (Envelope e in events)
            {
                for (int i = 0; i < patterns.Length; i++)
                {
                    if (TopicPattern.Parse(patterns[i]).IsMatch(e.Type))
                    {
                        expected.Add(($"g{i}", e.Id));
                    }
                }
            }

            Assert.Equal(expected.OrderBy(x => x), rows.OrderBy(x => x));
        }
    }

    /// <summary>
    /// Three members of a group ordered by key, each event failing its first attempt: every key's events are handled
    /// once each, in publish order, across the three; and each member handled some.
    /// </summary>
    [Fact]
    public async Task ThreeCompetingMembers_KeepEveryKeysOrder_AcrossFailedFirstAttempts()
    {
        const int Count = 300;
        string cs = await server.CreateDatabaseAsync("ord");
        var log = new Log();
        void Handlers(HeraldBuilder h) => h.AddHandler<FailsFirst, UserCreated>(o => { o.Group = "workers"; o.OrderedByKey = true; o.Concurrency = 4; o.Retry = Retry.Exponential(5, TimeSpan.FromMilliseconds(10)); });
        await using HeraldTestHarness a = await StartAsync(cs, Handlers, log, "a");
        await using HeraldTestHarness b = await StartAsync(cs, Handlers, log, "b");
        await using HeraldTestHarness c = await StartAsync(cs, Handlers, log, "c");
        for (int i = 0; i < Count; i++)
        {
            await (i % 3 == 0 ? a : i % 3 == 1 ? b : c).Bus.PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch), new PublishOptions { Key = KeyOf(i) });
        }

        await Poll.UntilAsync(() => log.Entries.Count >= Count, TimeSpan.FromSeconds(60), () => $"{log.Entries.Count} of {Count} handled");
        (string Member, string Key, long Id)[] entries = [.. log.Entries];
        output.WriteLine(string.Join(", ", entries.GroupBy(e => e.Member).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));
        foreach (IGrouping<string, (string Member, string Key, long Id)> key in entries.GroupBy(e => e.Key))
        {
            Assert.Equal(Enumerable.Range(0, Count).Where(i => KeyOf(i) == key.Key).Select(i => (long)i), key.Select(e => e.Id));
        }

        Assert.Equal(3, entries.Select(e => e.Member).Distinct().Count());
    }

    /// <summary>
    /// In a group ordered by key, a delayed publish waits outside the order: the key's events published after it are
    /// handled now, and it comes when due (then after them).
    /// </summary>
    [Fact]
    public async Task ADelayedPublish_DoesNotHoldBackItsKey_InAnOrderedGroup()
    {
        string cs = await server.CreateDatabaseAsync("delay");
        var log = new Log();
        await using HeraldTestHarness member = await StartAsync(cs, h => h.AddHandler<Slow, UserCreated>(o => { o.Group = "workers"; o.OrderedByKey = true; }), log, "a");
        await member.Bus.PublishAsync(new UserCreated(0, "x@y.z", DateTimeOffset.UnixEpoch), new PublishOptions { Key = "k", Delay = TimeSpan.FromSeconds(3) });
        for (int i = 1; i <= 3; i++)
        {
            await member.Bus.PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch), new PublishOptions { Key = "k" });
        }

        await Poll.UntilAsync(() => log.Entries.Count >= 3, TimeSpan.FromSeconds(2.5), () => $"{log.Entries.Count} of the 3 undelayed events handled before the delayed one was due");
        await Poll.UntilAsync(() => log.Entries.Count >= 4, TimeSpan.FromSeconds(30), () => "the delayed event never came");
        Assert.Equal([1L, 2, 3, 0], log.Entries.Select(e => e.Id));
    }

    /// <summary>Three members of an unordered group share its events: each handled once, by one member, each member some.</summary>
    [Fact]
    public async Task ThreeCompetingMembers_ShareTheWork_EachEventOnce()
    {
        const int Count = 600;
        string cs = await server.CreateDatabaseAsync("share");
        var log = new Log();
        void Handlers(HeraldBuilder h) => h.AddHandler<Slow, UserCreated>(o => { o.Group = "workers"; o.Concurrency = 2; });
        await using HeraldTestHarness a = await StartAsync(cs, Handlers, log, "a");
        await using HeraldTestHarness b = await StartAsync(cs, Handlers, log, "b");
        await using HeraldTestHarness c = await StartAsync(cs, Handlers, log, "c");
        await Parallel.ForAsync(0, Count, async (i, ct) => await a.Bus.PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch), ct));

        await Poll.UntilAsync(() => log.Entries.Count >= Count, TimeSpan.FromSeconds(60), () => $"{log.Entries.Count} of {Count} handled");
        (string Member, string Key, long Id)[] entries = [.. log.Entries];
        output.WriteLine(string.Join(", ", entries.GroupBy(e => e.Member).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));
        Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), entries.Select(e => e.Id).Order());
        Assert.Equal(3, entries.Select(e => e.Member).Distinct().Count());
    }

    /// <summary>
    /// One member (one process), each of 200 envelopes published eight times over, concurrently: rows of one event id
    /// are claimed and handled around each other, with the claim's inbox hints in play; each id is handled once, the
    /// rest are duplicates (a hint made before another row's record was committed is not trusted).
    /// </summary>
    [Fact]
    public async Task OneEventIdPublishedManyTimes_InOneProcess_IsHandledOnce()
    {
        string cs = await server.CreateDatabaseAsync("dup");
        var log = new Log();
        await using HeraldTestHarness a = await StartAsync(cs, h => h.AddHandler<Slow, UserCreated>(o => o.Concurrency = 8), log, "a");
        for (int round = 0; round < 4; round++)
        {
            Envelope[] events = [.. Enumerable.Range(1 + (round * 50), 50).Select(i => new Envelope("user.created", new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch), DateTimeOffset.UnixEpoch))];
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                foreach (Envelope e in events)
                {
                    await a.Bus.PublishAsync(e);
                }
            })));
        }

        await a.DeliveriesAsync(d => d.Outcome is DeliveryOutcome.Handled or DeliveryOutcome.Duplicate, 4 * 50 * 8);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), log.Entries.Select(e => e.Id).Order());
    }

    /// <summary>
    /// Another process's publishes wake a member by notification, not by its polling (here an hour): each of a stream
    /// of publishes, and one in the caller's transaction once it commits.
    /// </summary>
    [Fact]
    public async Task PublishesOfAnotherProcess_WakeTheMembers_WithoutPolling()
    {
        string cs = await server.CreateDatabaseAsync("notify");
        await using HeraldTestHarness member = await HeraldTestHarness.StartAsync(h =>
        {
            h.UsePostgres(cs, o => { o.Schema = _schema; o.PollInterval = TimeSpan.FromHours(1); });
            h.AddHandler<Slow, UserCreated>(o => o.Group = "workers");
        }, s => s.AddSingleton(new Log()).AddSingleton(new Member("m")));
        await using var publisher = new EventBus(new EventBusOptions().UsePostgres(new PostgresOptions { ConnectionString = cs, Schema = _schema }));

        for (int i = 0; i < 50; i++)
        {
            await publisher.PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch));
            await Task.Delay(i % 10 == 0 ? 20 : 0); // some alone, some in a stream
        }

        await member.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 50, TimeSpan.FromSeconds(20));

        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using (NpgsqlTransaction tx = await connection.BeginTransactionAsync())
        {
            await publisher.PublishAsync(new UserCreated(99, "x@y.z", DateTimeOffset.UnixEpoch), new PublishOptions { Transaction = tx });
            await tx.CommitAsync();
        }

        await member.Consumed<UserCreated>(e => e.Event.Id == 99, TimeSpan.FromSeconds(20));
    }

    /// <summary>The outbox: a publish in the caller's transaction is delivered when it commits, never when it rolls back.</summary>
    [Fact]
    public async Task Outbox_TheCallersWriteAndTheEventCommitTogether_OrNeither()
    {
        string cs = await server.CreateDatabaseAsync("outbox");
        var log = new Log();
        await using HeraldTestHarness harness = await StartAsync(cs, h => h.AddHandler<Slow, UserCreated>(), log, "a");
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE users (id bigint PRIMARY KEY)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        foreach ((long id, bool commit) in new[] { (1L, false), (2L, true) })
        {
            await using NpgsqlTransaction tx = await connection.BeginTransactionAsync();
            await using (var insert = new NpgsqlCommand($"INSERT INTO users VALUES ({id})", connection, tx))
            {
                await insert.ExecuteNonQueryAsync();
            }

            await harness.Bus.PublishAsync(new UserCreated(id, "x@y.z", DateTimeOffset.UnixEpoch), new PublishOptions { Transaction = tx });
            await (commit ? tx.CommitAsync() : tx.RollbackAsync());
        }

        await harness.Consumed<UserCreated>(e => e.Event.Id == 2);
        await using var count = new NpgsqlCommand($"SELECT (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM \"{_schema}\".messages)", connection);
        string? counts = null;
        await Poll.UntilAsync(() => (counts = (string?)count.ExecuteScalar()) == "1/0", TimeSpan.FromSeconds(10), () => $"users/messages {counts}"); // the row, and the event handled and its row deleted (settled in the background)
        Assert.DoesNotContain(log.Entries, e => e.Id == 1);
    }

    /// <summary>The inbox in the handler's own transaction: the first record wins, a second (a redelivery elsewhere) is refused.</summary>
    [Fact]
    public async Task Inbox_TryRecordInTheHandlersTransaction_IsOncePerConsumerAndEvent()
    {
        string cs = await server.CreateDatabaseAsync("inbox");
        await using var inbox = new PostgresInboxStore(new PostgresOptions { ConnectionString = cs, Schema = _schema });
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using (NpgsqlTransaction rolledBack = await connection.BeginTransactionAsync())
        {
            Assert.True(await inbox.TryRecordAsync(rolledBack, "billing", "e-1"));
            await rolledBack.RollbackAsync();
        }

        await using (NpgsqlTransaction first = await connection.BeginTransactionAsync())
        {
            Assert.True(await inbox.TryRecordAsync(first, "billing", "e-1")); // the rollback left nothing
            Assert.True(await inbox.TryRecordAsync(first, "email", "e-1")); // another consumer
            await first.CommitAsync();
        }

        await using (NpgsqlTransaction again = await connection.BeginTransactionAsync())
        {
            Assert.False(await inbox.TryRecordAsync(again, "billing", "e-1"));
        }

        Assert.False(await inbox.TryBeginAsync("billing", "e-1", CancellationToken.None));
        Assert.True(await inbox.TryBeginAsync("billing", "e-2", CancellationToken.None));
    }
}
