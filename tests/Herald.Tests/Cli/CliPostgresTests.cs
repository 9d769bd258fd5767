using System.Text.RegularExpressions;
using Herald.Postgres;
using Herald.Testing;
using Herald.Tests.Postgres;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Herald.Tests.Cli;

/// <summary>The real <c>herald</c> command against a real PostgreSQL server and a Herald host on it.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CliPostgresTests(PostgresServer server)
{
    private readonly string _schema = $"cli{Guid.NewGuid():N}"[..16];

    public sealed class Healing
    {
        public volatile bool Healed;
    }

    public sealed class Risk(Healing healing) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) =>
            !healing.Healed && context.Event.Id % 2 == 1 ? throw new InvalidOperationException($"user {context.Event.Id} is risky") : Task.CompletedTask;
    }

    public sealed class Email : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private Task<HeraldTestHarness> StartAsync(string cs, Healing healing) =>
        HeraldTestHarness.StartAsync(
            h =>
            {
                h.UsePostgres(cs, o => { o.Schema = _schema; o.PollInterval = TimeSpan.FromMilliseconds(50); });
                h.AddHandler<Risk, UserCreated>(o => { o.Name = "risk"; o.Group = "risk-checks"; o.Retry = Retry.None; }); // a group named apart from its consumer
                h.AddHandler<Email, UserCreated>(o => o.Name = "email");
            },
            s => s.AddSingleton(healing));

    private string[] Place(string cs) => ["--postgres", cs, "--schema", _schema];

    private static string User(int id) => $$"""{"id":{{id}},"email":"user{{id}}@example.com","createdAt":"2026-11-23T12:00:00+00:00"}""";

    private async Task<long> ScalarAsync(string cs, string sql)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{s}", $"\"{_schema}\"", StringComparison.Ordinal), connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task PublishDeadLettersSubscriptionsStatsStreamsAndTail_WorkAgainstTheDatabase()
    {
        string cs = await server.CreateDatabaseAsync("cli");
        Task<HeraldCli.Result> Herald(params string[] args) => HeraldCli.RunAsync([.. args, .. Place(cs)]);
        var healing = new Healing();
        await using HeraldTestHarness harness = await StartAsync(cs, healing);

        for (int id = 1; id <= 4; id++)
        {
            HeraldCli.Result published = await Herald("publish", "user.created", "--data", User(id), "--key", $"user-{id}");
            Assert.True(published.ExitCode == 0, published.ToString());
            Assert.Contains($"on postgres 127.0.0.1:{server.Port}/", published.Output);
            Assert.Contains($"schema {_schema}", published.Output);
        }

        await harness.DeliveriesAsync(d => d.Handler == "email" && d.Outcome == DeliveryOutcome.Handled, 4);
        await harness.DeliveriesAsync(d => d.Handler == "risk" && d.Outcome == DeliveryOutcome.DeadLettered, 2);

        HeraldCli.Result list = await Herald("dead-letters", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("2 dead letter(s)", list.Output);
        Assert.Contains("user 1 is risky", list.Output);
        DeadLetter[] letters = [.. (await harness.DeadLetters.ListAsync()).OrderBy(d => d.Envelope.Subject)];
        Assert.Equal(["user-1", "user-3"], letters.Select(l => l.Envelope.Subject));

        HeraldCli.Result show = await Herald("dead-letters", "show", letters[0].Id);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("System.InvalidOperationException", show.Output);
        Assert.Contains("user1@example.com", show.Output);

        HeraldCli.Result subscriptions = await Herald("subscriptions");
        Assert.True(subscriptions.ExitCode == 0, subscriptions.ToString());
        string risk = subscriptions.Output.Split('\n').Single(l => l.Contains("│ risk-checks ", StringComparison.Ordinal));
        Assert.Contains("risk (user.created)", risk);
        Assert.Contains("dead letters 2", risk);
        Assert.Contains("2 group(s)", subscriptions.Output);

        HeraldCli.Result stats = await Herald("stats");
        Assert.True(stats.ExitCode == 0, stats.ToString());
        Assert.Contains("2 dead letter(s)", stats.Output);

        // Redrive one to the healed consumer: a row for its group alone (not email's), the dead letter gone in the same commit.
        healing.Healed = true;
        HeraldCli.Result redrive = await Herald("dead-letters", "redrive", letters[0].Id);
        Assert.True(redrive.ExitCode == 0, redrive.ToString());
        await harness.DeliveriesAsync(d => d.Handler == "risk" && d.Outcome == DeliveryOutcome.Handled && d.Envelope.Subject == "user-1", 1);
        Assert.Equal(4, harness.Deliveries.Count(d => d.Handler == "email"));
        Assert.Equal(1, await harness.DeadLetters.CountAsync());
        Assert.Equal(1, (await Herald("dead-letters", "redrive", letters[0].Id)).ExitCode);

        HeraldCli.Result purge = await Herald("dead-letters", "purge", "--all", "--yes");
        Assert.True(purge.ExitCode == 0, purge.ToString());
        Assert.Contains("purged 1 dead letter(s)", purge.Output);
        Assert.Equal(0, await harness.DeadLetters.CountAsync());

        // The event store in the same schema.
        var store = harness.Services.GetRequiredService<IEventStore>();
        await store.AppendEventsAsync("order-42", ExpectedVersion.NoStream, [new OrderPaid(42, 10m), new OrderPaid(42, 5m)]);
        HeraldCli.Result streams = await Herald("streams", "list");
        Assert.True(streams.ExitCode == 0, streams.ToString());
        Assert.Matches(@"│ order-42\s+│ 2\s+│ live", streams.Output);
        HeraldCli.Result read = await Herald("streams", "read", "order-42");
        Assert.True(read.ExitCode == 0, read.ToString());
        Assert.Contains("2 event(s) in order-42", read.Output);

        // Rows are deleted once handled: no log to start from, said so.
        HeraldCli.Result fromStart = await Herald("tail", "--from", "start", "--max", "1");
        Assert.Equal(2, fromStart.ExitCode);
        Assert.Contains("keeps no log", fromStart.Error);

        // Tail from now: the tap sees what is published while it runs, and goes when the command ends.
        using (ChildProcess tail = HeraldCli.Start(["tail", "user.*", "--max", "1", .. Place(cs)]))
        {
            await tail.WaitForLineAsync(l => l.Contains("tailing 'user.*'", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            Assert.Equal(1, await ScalarAsync(cs, "SELECT count(*) FROM {s}.groups WHERE starts_with(name, '$tap.') AND expires > now()"));
            await Herald("publish", "user.created", "--data", User(99), "--key", "user-99");
            await tail.ExitedAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, tail.ExitCode);
            Assert.Contains(tail.Lines, l => l.Contains("user.created  user-99", StringComparison.Ordinal) && l.Contains("user99@example.com", StringComparison.Ordinal));
        }

        Assert.Equal(0, await ScalarAsync(cs, "SELECT count(*) FROM {s}.groups WHERE starts_with(name, '$tap.') AND expires > now()"));
        Assert.Equal(0, await ScalarAsync(cs, "SELECT count(*) FROM {s}.messages WHERE starts_with(group_name, '$tap.')"));
    }

    [Fact]
    public async Task TheDashboard_OnTheDatabase_ShowsItsGroups_AndEvents()
    {
        string cs = await server.CreateDatabaseAsync("cli");
        await using HeraldTestHarness harness = await StartAsync(cs, new Healing());
        using ChildProcess dashboard = HeraldCli.Start(["dashboard", "--urls", "http://127.0.0.1:0", .. Place(cs)]);
        await dashboard.WaitForLineAsync(l => l.StartsWith("dashboard on postgres", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        string line = dashboard.Lines.First(l => l.StartsWith("dashboard on postgres", StringComparison.Ordinal));
        using var http = new HttpClient { BaseAddress = new Uri(Regex.Match(line, @"http://127\.0\.0\.1:\d+/herald/").Value) };

        string topology = await http.GetStringAsync("api/topology");
        Assert.Contains("\"name\":\"risk-checks\"", topology);
        Assert.Contains("\"pattern\":\"user.created\"", topology);
        Assert.DoesNotContain("$tap.", topology); // the dashboard's own tap is not a group of the application

        HeraldCli.Result published = await HeraldCli.RunAsync(["publish", "user.created", "--data", User(2), "--key", "user-2", .. Place(cs)]);
        Assert.True(published.ExitCode == 0, published.ToString());
        string id = published.Output.Trim()[^36..];
        string events = "";
        await Poll.UntilAsync(
            async () =>
            {
                events = await http.GetStringAsync("api/events");
                return events.Contains(id, StringComparison.Ordinal);
            },
            TimeSpan.FromSeconds(20),
            () => $"{id} on the dashboard: {events}");

        string detail = await http.GetStringAsync($"api/events/{id}");
        Assert.Contains("risk-checks", detail);
        Assert.Contains("email", detail);
    }

    [Fact]
    public async Task WhatIsNotThere_AndBadPlaces_AreClearErrors_ThatNeverEchoAPassword()
    {
        string cs = await server.CreateDatabaseAsync("cli");
        await using HeraldTestHarness harness = await StartAsync(cs, new Healing());

        HeraldCli.Result unroutable = await HeraldCli.RunAsync(["publish", "nobody.listens", "--data", "{}", .. Place(cs)]);
        Assert.Equal(1, unroutable.ExitCode);
        Assert.Contains("No consumer group", unroutable.Error);
        Assert.Contains("nobody.listens", unroutable.Error);

        // A typo in the schema is an error naming it, and creates nothing.
        HeraldCli.Result typo = await HeraldCli.RunAsync("stats", "--postgres", cs, "--schema", _schema + "x");
        Assert.Equal(1, typo.ExitCode);
        Assert.Contains($"has no Herald schema '{_schema}x'", typo.Error);
        Assert.Equal(0, await ScalarAsync(cs, $"SELECT count(*) FROM pg_namespace WHERE nspname = '{_schema}x'"));

        // Another application's schema, and a newer Herald's, are refused and left alone.
        await ScalarAsync(cs, "CREATE SCHEMA foreign_app; CREATE TABLE foreign_app.herald_schema (product text, version int); INSERT INTO foreign_app.herald_schema VALUES ('other', 1); SELECT 1");
        HeraldCli.Result foreign = await HeraldCli.RunAsync("stats", "--postgres", cs, "--schema", "foreign_app");
        Assert.Equal(1, foreign.ExitCode);
        Assert.Contains("not Herald's", foreign.Error);
        await ScalarAsync(cs, "UPDATE {s}.herald_schema SET version = version + 1; SELECT 1");
        HeraldCli.Result newer = await HeraldCli.RunAsync("stats", "--postgres", cs, "--schema", _schema);
        await ScalarAsync(cs, "UPDATE {s}.herald_schema SET version = version - 1; SELECT 1");
        Assert.Equal(1, newer.ExitCode);
        Assert.Contains("made by a newer Herald", newer.Error);

        HeraldCli.Result badString = await HeraldCli.RunAsync("stats", "--postgres", "Hots=127.0.0.1;Password=hunter2");
        Assert.Equal(2, badString.ExitCode);
        Assert.Contains("--postgres takes an Npgsql connection string", badString.Error);
        Assert.DoesNotContain("hunter2", badString.Error);

        int closed = LoopbackPort.Free();
        HeraldCli.Result away = await HeraldCli.RunAsync("stats", "--postgres", $"Host=127.0.0.1;Port={closed};Username=app;Password=hunter2;Timeout=5");
        Assert.Equal(1, away.ExitCode);
        Assert.Contains($"PostgreSQL at 127.0.0.1:{closed}/app cannot be used", away.Error);
        Assert.DoesNotContain("hunter2", away.Error + away.Output);
    }

    [Fact]
    public async Task ATap_ThatExpired_IsNoLongerRoutedTo_AndItsRowsArePruned_AndNeverCountsAsRouting()
    {
        string cs = await server.CreateDatabaseAsync("tap");
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var database = new PostgresDatabase(new PostgresOptions { ConnectionString = cs, Schema = _schema, TimeProvider = time });
        await using var bus = new EventBus(new EventBusOptions().UsePostgres(new PostgresOptions { ConnectionString = cs, Schema = _schema }));
        await using PostgresTap tap = await PostgresTap.OpenAsync(database, CancellationToken.None);

        // Nobody consumes user.created: the tap sees the publish, and the bus still reports it as unrouted.
        await bus.PublishAsync(new UserCreated(1, "a@example.com", DateTimeOffset.UnixEpoch));
        Assert.Equal(1, bus.Stats.Unrouted);
        IReadOnlyList<(long Seq, string Topic, byte[] Envelope)> seen = await tap.TakeAsync(10, CancellationToken.None);
        Assert.Equal("user.created", Assert.Single(seen).Topic);

        // Its command died a while ago (the lease ran out): not routed to, and the prune takes what it still held.
        await bus.PublishAsync(new UserCreated(2, "b@example.com", DateTimeOffset.UnixEpoch));
        await ScalarAsync(cs, $"UPDATE {{s}}.groups SET expires = now() - interval '1 second' WHERE name = '{tap.Name}'; SELECT 1");
        await bus.PublishAsync(new UserCreated(3, "c@example.com", DateTimeOffset.UnixEpoch));
        Assert.Equal(1, await ScalarAsync(cs, $"SELECT count(*) FROM {{s}}.messages WHERE group_name = '{tap.Name}'"));
        await using (NpgsqlConnection connection = await database.DataSource.OpenConnectionAsync())
        {
            await PostgresTap.PruneAsync(connection, database.Schema, CancellationToken.None);
        }

        Assert.Equal(0, await ScalarAsync(cs, $"SELECT count(*) FROM {{s}}.messages WHERE group_name = '{tap.Name}'"));
        Assert.Equal(1, await ScalarAsync(cs, $"SELECT count(*) FROM {{s}}.groups WHERE name = '{tap.Name}'")); // kept a day, for rows that commit late

        // The next read a quarter of a lease later renews it: routed to again from then on.
        time.Advance(PostgresTap.Lease / 4);
        Assert.Empty(await tap.TakeAsync(10, CancellationToken.None));
        await bus.PublishAsync(new UserCreated(4, "d@example.com", DateTimeOffset.UnixEpoch));
        Assert.Single(await tap.TakeAsync(10, CancellationToken.None));
        Assert.Equal(4, bus.Stats.Unrouted);

        // An application group cannot take a tap's name.
        await using var member = new EventBus(new EventBusOptions().UsePostgres(new PostgresOptions { ConnectionString = cs, Schema = _schema }));
        var refused = await Assert.ThrowsAsync<ArgumentException>(async () => await member.Transport.SubscribeAsync(new Herald.Transport.ConsumerSpec("$tap.mine", TopicPattern.Parse("#")), CancellationToken.None));
        Assert.Contains("herald command's taps", refused.Message);
    }
}
