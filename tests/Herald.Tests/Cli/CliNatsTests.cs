using Herald.Testing;
using Herald.Tests.Nats;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Cli;

/// <summary>The real <c>herald</c> command against a real NATS server and a Herald host on it.</summary>
[Collection(NatsCollection.Name)]
public sealed class CliNatsTests(NatsServer server)
{
    private readonly string _unique = "cli" + Guid.NewGuid().ToString("N")[..10];

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

    private string Stream => _unique.ToUpperInvariant();

    private Task<HeraldTestHarness> StartAsync(Healing healing) =>
        HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseNats(server.Url, o =>
                {
                    o.Stream = Stream;
                    o.SubjectPrefix = _unique;
                });
                h.AddHandler<Risk, UserCreated>(o => { o.Name = "risk"; o.Retry = Retry.None; });
                h.AddHandler<Email, UserCreated>(o => o.Name = "email");
            },
            s => s.AddSingleton(healing));

    private string[] Place => ["--nats", server.Url, "--stream", Stream, "--subject-prefix", _unique];

    private Task<HeraldCli.Result> Herald(params string[] args) => HeraldCli.RunAsync([.. args, .. Place]);

    private static string User(int id) => $$"""{"id":{{id}},"email":"user{{id}}@example.com","createdAt":"2026-11-23T12:00:00+00:00"}""";

    [Fact]
    public async Task PublishDeadLettersSubscriptionsStatsAndTail_WorkAgainstTheServer()
    {
        var healing = new Healing();
        await using HeraldTestHarness harness = await StartAsync(healing);

        for (int id = 1; id <= 4; id++)
        {
            HeraldCli.Result published = await Herald("publish", "user.created", "--data", User(id), "--key", $"user-{id}");
            Assert.True(published.ExitCode == 0, published.ToString());
            Assert.Contains($"on nats nats://127.0.0.1:{server.Port} stream {Stream}", published.Output);
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
        string risk = subscriptions.Output.Split('\n').Single(l => l.Contains("│ risk ", StringComparison.Ordinal));
        Assert.Contains("risk (user.created)", risk);
        Assert.Contains("ack pending 0", risk);

        HeraldCli.Result stats = await Herald("stats");
        Assert.True(stats.ExitCode == 0, stats.ToString());

        // Redrive one to the healed consumer: handled by "risk" alone, out of the dead letters.
        healing.Healed = true;
        HeraldCli.Result redrive = await Herald("dead-letters", "redrive", letters[0].Id);
        Assert.True(redrive.ExitCode == 0, redrive.ToString());
        await harness.DeliveriesAsync(d => d.Handler == "risk" && d.Outcome == DeliveryOutcome.Handled && d.Envelope.Subject == "user-1", 1);
        Assert.Equal(4, harness.Deliveries.Count(d => d.Handler == "email")); // not sent to email again
        Assert.Equal(1, await harness.DeadLetters.CountAsync());
        Assert.Equal(1, (await Herald("dead-letters", "redrive", letters[0].Id)).ExitCode);

        // A group whose redrive consumer is gone: the redrive is refused (the event would sit unread), the dead letter kept.
        await using (var connection = new NATS.Client.Core.NatsConnection(new NATS.Client.Core.NatsOpts { Url = server.Url }))
        {
            var js = new NATS.Client.JetStream.NatsJSContext(connection);
            await harness.Host.StopAsync(CancellationToken.None);
            await js.DeleteConsumerAsync(Stream, "risk__redrive");
        }

        HeraldCli.Result orphan = await Herald("dead-letters", "redrive", letters[1].Id);
        Assert.Equal(1, orphan.ExitCode);
        Assert.Contains("no redrive consumer", orphan.Error);
        Assert.Equal(1, await harness.DeadLetters.CountAsync());

        HeraldCli.Result purge = await Herald("dead-letters", "purge", "--all", "--yes");
        Assert.True(purge.ExitCode == 0, purge.ToString());
        Assert.Contains("purged 1 dead letter(s)", purge.Output);
        Assert.Equal(0, await harness.DeadLetters.CountAsync());

        // Tail from the start: the stream is a log, so what was published before is read back too.
        HeraldCli.Result fromStart = await Herald("tail", "user.*", "--from", "start", "--max", "4");
        Assert.True(fromStart.ExitCode == 0, fromStart.ToString());
        Assert.Contains("user.created  user-4", fromStart.Output);

        using ChildProcess tail = HeraldCli.Start(["tail", "user.*", "--max", "1", .. Place]);
        await tail.WaitForLineAsync(l => l.Contains("tailing 'user.*'", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await Herald("publish", "user.created", "--data", User(99), "--key", "user-99");
        await tail.ExitedAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, tail.ExitCode);
        Assert.Contains(tail.Lines, l => l.Contains("user.created  user-99", StringComparison.Ordinal) && l.Contains("user99@example.com", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheDashboard_OnTheServer_ShowsItsGroups_AndEvents()
    {
        await using HeraldTestHarness harness = await StartAsync(new Healing());
        using ChildProcess dashboard = HeraldCli.Start(["dashboard", "--urls", "http://127.0.0.1:0", .. Place]);
        await dashboard.WaitForLineAsync(l => l.StartsWith("dashboard on nats", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        string line = dashboard.Lines.First(l => l.StartsWith("dashboard on nats", StringComparison.Ordinal));
        using var http = new HttpClient { BaseAddress = new Uri(System.Text.RegularExpressions.Regex.Match(line, @"http://127\.0\.0\.1:\d+/herald/").Value) };

        string topology = await http.GetStringAsync("api/topology");
        Assert.Contains("\"name\":\"risk\"", topology);
        Assert.Contains("\"pattern\":\"user.created\"", topology);

        HeraldCli.Result published = await Herald("publish", "user.created", "--data", User(2), "--key", "user-2");
        string id = published.Output.Trim()[^36..];
        string events = "";
        for (int i = 0; i < 200 && !events.Contains(id, StringComparison.Ordinal); i++)
        {
            events = await http.GetStringAsync("api/events");
            await Task.Delay(50);
        }

        Assert.Contains(id, events);
    }

    [Fact]
    public async Task WhatTheServerCannotDo_AndAServerThatIsNotThere_AreClearErrors()
    {
        await using HeraldTestHarness harness = await StartAsync(new Healing());

        HeraldCli.Result streams = await Herald("streams", "list");
        Assert.Equal(2, streams.ExitCode);
        Assert.Contains("has no event store", streams.Error);

        HeraldCli.Result unroutable = await Herald("publish", "nobody.listens", "--data", "{}");
        Assert.Equal(1, unroutable.ExitCode);
        Assert.Contains("nobody.listens", unroutable.Error);
        Assert.Contains("no consumer group", unroutable.Error);

        HeraldCli.Result badUrl = await HeraldCli.RunAsync("stats", "--nats", "http://127.0.0.1");
        Assert.Equal(2, badUrl.ExitCode);
        Assert.Contains("--nats takes a NATS URL", badUrl.Error);

        // A typo in the stream or the prefix is an error naming it, and creates or changes nothing.
        HeraldCli.Result typo = await HeraldCli.RunAsync("stats", "--nats", server.Url, "--stream", Stream + "X", "--subject-prefix", _unique);
        Assert.Equal(1, typo.ExitCode);
        Assert.Contains($"'{Stream}X' does not exist", typo.Error);
        HeraldCli.Result prefix = await HeraldCli.RunAsync("stats", "--nats", server.Url, "--stream", Stream, "--subject-prefix", _unique + "x");
        Assert.Equal(1, prefix.ExitCode);
        Assert.Contains($"does not take {_unique}x.>", prefix.Error);
        await using (var connection = new NATS.Client.Core.NatsConnection(new NATS.Client.Core.NatsOpts { Url = server.Url }))
        {
            var js = new NATS.Client.JetStream.NatsJSContext(connection);
            await Assert.ThrowsAsync<NATS.Client.JetStream.NatsJSApiException>(async () => await js.GetStreamAsync(Stream + "X"));
            NATS.Client.JetStream.INatsJSStream events = await js.GetStreamAsync(Stream);
            Assert.DoesNotContain(events.Info.Config.Subjects ?? [], s => s.StartsWith(_unique + "x", StringComparison.Ordinal));
        }

        int closed = LoopbackPort.Free();
        HeraldCli.Result away = await HeraldCli.RunAsync("stats", "--nats", $"nats://admin:hunter2@127.0.0.1:{closed}");
        Assert.Equal(1, away.ExitCode);
        Assert.Contains($"127.0.0.1:{closed} is not reachable", away.Error);
        Assert.DoesNotContain("hunter2", away.Error);

        HeraldCli.Result token = await HeraldCli.RunAsync("stats", "--nats", "nats//s3cr3tt0ken@127.0.0.1");
        Assert.Equal(2, token.ExitCode);
        Assert.DoesNotContain("s3cr3tt0ken", token.Error);
    }

}
