using Herald.Testing;
using Herald.Tests.RabbitMQ;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Cli;

/// <summary>The real <c>herald</c> command against a real RabbitMQ broker (management plugin on) and a Herald host on it.</summary>
[Collection(BrokerCollection.Name)]
public sealed class CliRabbitMqTests(RabbitMqBroker broker)
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

    private Task<HeraldTestHarness> StartAsync(Healing healing) =>
        HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseRabbitMQ(broker.Uri, o =>
                {
                    o.Exchange = _unique;
                    o.QueuePrefix = _unique + ".";
                });
                h.AddHandler<Risk, UserCreated>(o => { o.Name = "risk"; o.Retry = Retry.None; });
                h.AddHandler<Email, UserCreated>(o => o.Name = "email");
            },
            s => s.AddSingleton(healing));

    private Task<HeraldCli.Result> Herald(params string[] args) =>
        HeraldCli.RunAsync([.. args, "--rabbitmq", broker.Uri, "--exchange", _unique, "--queue-prefix", _unique + ".", "--management", broker.ManagementUrl]);

    private static string User(int id) => $$"""{"id":{{id}},"email":"user{{id}}@example.com","createdAt":"2026-11-23T12:00:00+00:00"}""";

    [Fact]
    public async Task PublishDeadLettersSubscriptionsAndTail_WorkAgainstTheBroker()
    {
        var healing = new Healing();
        await using HeraldTestHarness harness = await StartAsync(healing);

        for (int id = 1; id <= 4; id++)
        {
            HeraldCli.Result published = await Herald("publish", "user.created", "--data", User(id), "--key", $"user-{id}");
            Assert.True(published.ExitCode == 0, published.ToString());
            Assert.Contains("on rabbitmq amqp://127.0.0.1:", published.Output);
            Assert.DoesNotContain("guest", published.Output); // never the credentials
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
        Assert.Contains("consumers 1", risk);
        Assert.Contains("dead letters 2", risk);

        // Redrive one to the healed consumer: handled by "risk" alone, out of the dead letters.
        healing.Healed = true;
        HeraldCli.Result redrive = await Herald("dead-letters", "redrive", letters[0].Id);
        Assert.True(redrive.ExitCode == 0, redrive.ToString());
        await harness.DeliveriesAsync(d => d.Handler == "risk" && d.Outcome == DeliveryOutcome.Handled && d.Envelope.Subject == "user-1", 1);
        Assert.Equal(4, harness.Deliveries.Count(d => d.Handler == "email")); // not sent to email again
        Assert.Equal(1, await harness.DeadLetters.CountAsync());
        Assert.Equal(1, (await Herald("dead-letters", "redrive", letters[0].Id)).ExitCode);

        HeraldCli.Result purge = await Herald("dead-letters", "purge", "--all", "--yes");
        Assert.True(purge.ExitCode == 0, purge.ToString());
        Assert.Contains("purged 1 dead letter(s)", purge.Output);
        Assert.Equal(0, await harness.DeadLetters.CountAsync());

        // Tail: a private queue sees what is published after it started.
        using ChildProcess tail = HeraldCli.Start("tail", "user.*", "--max", "1", "--rabbitmq", broker.Uri, "--exchange", _unique, "--queue-prefix", _unique + ".", "--management", broker.ManagementUrl);
        await tail.WaitForLineAsync(l => l.Contains("tailing 'user.*'", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await Herald("publish", "user.created", "--data", User(99), "--key", "user-99");
        await tail.ExitedAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, tail.ExitCode);
        Assert.Contains(tail.Lines, l => l.Contains("user.created  user-99", StringComparison.Ordinal) && l.Contains("user99@example.com", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheDashboard_OnTheBroker_ShowsItsGroups_AndEventsPublishedAfterItStarted()
    {
        await using HeraldTestHarness harness = await StartAsync(new Healing());
        using ChildProcess dashboard = HeraldCli.Start("dashboard", "--urls", "http://127.0.0.1:0", "--rabbitmq", broker.Uri, "--exchange", _unique, "--queue-prefix", _unique + ".", "--management", broker.ManagementUrl);
        await dashboard.WaitForLineAsync(l => l.StartsWith("dashboard on rabbitmq", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        string line = dashboard.Lines.First(l => l.StartsWith("dashboard on rabbitmq", StringComparison.Ordinal));
        Assert.DoesNotContain("guest", line);
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
    public async Task WhatABrokerCannotDo_AndABrokerThatIsNotThere_AreClearErrors()
    {
        HeraldCli.Result streams = await Herald("streams", "list");
        Assert.Equal(2, streams.ExitCode);
        Assert.Contains("has no event store", streams.Error);

        HeraldCli.Result fromStart = await Herald("tail", "--from", "start");
        Assert.Equal(2, fromStart.ExitCode);
        Assert.Contains("keeps no log", fromStart.Error);

        HeraldCli.Result unroutable = await Herald("publish", "nobody.listens", "--data", "{}");
        Assert.Equal(1, unroutable.ExitCode);
        Assert.Contains("nobody.listens", unroutable.Error);

        HeraldCli.Result badUri = await HeraldCli.RunAsync("stats", "--rabbitmq", "http://127.0.0.1");
        Assert.Equal(2, badUri.ExitCode);
        Assert.Contains("--rabbitmq takes an AMQP URI", badUri.Error);

        int closed = LoopbackPort.Free();
        HeraldCli.Result away = await HeraldCli.RunAsync("stats", "--rabbitmq", $"amqp://guest:secret@127.0.0.1:{closed}/");
        Assert.Equal(1, away.ExitCode);
        Assert.Contains($"127.0.0.1:{closed} is not reachable", away.Error);
        Assert.DoesNotContain("secret", away.Error);

        HeraldCli.Result noManagement = await HeraldCli.RunAsync("subscriptions", "--rabbitmq", broker.Uri, "--management", $"http://admin:hunter2@127.0.0.1:{closed}");
        Assert.Equal(1, noManagement.ExitCode);
        Assert.Contains("management API", noManagement.Error);
        Assert.DoesNotContain("hunter2", noManagement.Error); // issue 17: the management URL's user info was echoed

        HeraldCli.Result malformed = await HeraldCli.RunAsync("stats", "--rabbitmq", "amqp//guest:hunter2@127.0.0.1");
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("guest:***@", malformed.Error);
        Assert.DoesNotContain("hunter2", malformed.Error);

        HeraldCli.Result badManagement = await HeraldCli.RunAsync("subscriptions", "--rabbitmq", broker.Uri, "--management", "ftp://admin:hunter2@127.0.0.1");
        Assert.Equal(2, badManagement.ExitCode);
        Assert.DoesNotContain("hunter2", badManagement.Error);
    }

}
