using System.Text.Json;
using Herald.Sqlite;
using Herald.Testing;
using Herald.Tests.Support;

namespace Herald.Tests.Cli;

/// <summary>The real <c>herald</c> command against a real Herald SQLite file: output and exit codes, bad input included.</summary>
public sealed class CliSqliteTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    public sealed class Poisoned : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) =>
            context.Event.Id % 2 == 1 ? throw new InvalidOperationException($"user {context.Event.Id} is cursed") : Task.CompletedTask;
    }

    public sealed class Healed : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public sealed class Anything : IEventHandler<object>
    {
        public Task HandleAsync(EventContext<object> context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private Task<HeraldTestHarness> StartAsync(Action<HeraldBuilder> handlers) =>
        HeraldTestHarness.StartAsync(h =>
        {
            h.UseSqlite(_db.ConnectionString, o => o.PollInterval = TimeSpan.FromMilliseconds(20));
            handlers(h);
        });

    private async Task<HeraldCli.Result> Herald(params string[] args) => await HeraldCli.RunAsync([.. args, "--sqlite", _db.File]);

    private async Task CreateFileAsync()
    {
        await using var bus = new EventBus(new EventBusOptions().UseSqlite(_db.Options()));
    }

    [Fact]
    public async Task Publish_ThenTailFromStart_ShowsTheEvent_AsALineAndAsCloudEventJson()
    {
        await CreateFileAsync();
        HeraldCli.Result published = await Herald("publish", "user.created", "--data", """{"id":42,"email":"a@b.c"}""", "--key", "user-42");
        Assert.True(published.ExitCode == 0, published.ToString());
        Assert.Matches(@"published 1 event\(s\) to user.created on sqlite .*: [0-9a-f-]{36}", published.Output);
        string id = published.Output.Trim()[^36..];

        HeraldCli.Result line = await Herald("tail", "user.*", "--from", "start", "--max", "1");
        Assert.True(line.ExitCode == 0, line.ToString());
        Assert.Contains($"#1  user.created  user-42  {id}  {{\"id\":42,\"email\":\"a@b.c\"}}", line.Output);

        HeraldCli.Result json = await Herald("tail", "#", "--from", "1", "--max", "1", "--json");
        using JsonDocument e = JsonDocument.Parse(json.Output.Trim());
        Assert.Equal("1.0", e.RootElement.GetProperty("specversion").GetString());
        Assert.Equal("user.created", e.RootElement.GetProperty("type").GetString());
        Assert.Equal("user-42", e.RootElement.GetProperty("subject").GetString());
        Assert.Equal(id, e.RootElement.GetProperty("id").GetString());
        Assert.Equal(42, e.RootElement.GetProperty("data").GetProperty("id").GetInt32());

        HeraldCli.Result many = await Herald("publish", "order.paid", "--data", "{}", "--count", "250");
        Assert.True(many.ExitCode == 0, many.ToString());
        Assert.Equal(251L, _db.Scalar("SELECT count(*) FROM herald_messages"));
        Assert.Equal(250L, _db.Scalar("SELECT count(DISTINCT event_id) FROM herald_messages WHERE topic = 'order.paid'"));
    }

    [Fact]
    public async Task TailFromNow_StreamsWhatIsPublishedAfterItStarted()
    {
        await CreateFileAsync();
        await Herald("publish", "user.created", "--data", """{"before":true}""");
        using ChildProcess tail = HeraldCli.Start("tail", "user.*", "--max", "2", "--sqlite", _db.File);
        await tail.WaitForLineAsync(l => l.Contains("tailing 'user.*'", StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        await Herald("publish", "order.paid", "--data", "{}"); // not matched
        await Herald("publish", "user.created", "--data", """{"after":1}""");
        await Herald("publish", "user.deleted", "--data", """{"after":2}""");
        await tail.ExitedAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, tail.ExitCode);
        string[] lines = [.. tail.Lines.Where(l => l.Contains("  user.", StringComparison.Ordinal))];
        Assert.Equal(2, lines.Length);
        Assert.Contains("""{"after":1}""", lines[0]);
        Assert.Contains("""{"after":2}""", lines[1]);
        Assert.DoesNotContain(tail.Lines, l => l.Contains("before", StringComparison.Ordinal) || l.Contains("order.paid", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new[] { "publish", "user..created", "--data", "{}" }, "empty segment")]
    [InlineData(new[] { "publish", "User.Created", "--data", "{}" }, "User.Created")]
    [InlineData(new[] { "publish", "user.created", "--data", "{not json" }, "--data is not valid JSON")]
    [InlineData(new[] { "publish", "user.created" }, "--data")]
    [InlineData(new[] { "publish", "user.created", "--data", "{}", "--count", "0" }, "--count must be at least 1")]
    [InlineData(new[] { "tail", "user.**" }, "is not a topic pattern")]
    [InlineData(new[] { "tail", "--from", "yesterday" }, "--from takes start, now or a position")]
    [InlineData(new[] { "dead-letters", "redrive" }, "Give one dead letter id, or --all")]
    [InlineData(new[] { "dead-letters", "purge", "--all" }, "add --yes")]
    [InlineData(new[] { "frobnicate" }, "Unrecognized command or argument 'frobnicate'")]
    public async Task BadUsage_ExitsWith2_AndSaysWhatIsWrong(string[] args, string message)
    {
        await CreateFileAsync();
        if (args[0] == "dead-letters" && args[1] == "purge")
        {
            await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<Poisoned, UserCreated>(o => o.Retry = Retry.None));
            await harness.Bus.PublishAsync(TestEvents.User(1));
            await harness.DeadLettered<UserCreated>();
        }

        HeraldCli.Result result = await Herald(args);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Equal(0L, _db.Scalar("SELECT count(*) FROM herald_messages WHERE topic = 'user.created' AND event_id NOT IN (SELECT json_extract(CAST(envelope AS TEXT), '$.id') FROM herald_dead_letters)"));
    }

    [Fact]
    public async Task NoSystem_BothSystems_AMissingFile_AndAFileThatIsNotHeralds_AreClearErrors()
    {
        HeraldCli.Result none = await HeraldCli.RunAsync("stats");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("Say which Herald to talk to: --sqlite herald.db or --rabbitmq", none.Error);

        HeraldCli.Result both = await HeraldCli.RunAsync("stats", "--sqlite", "a.db", "--rabbitmq", "amqp://127.0.0.1");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("not both", both.Error);

        string missing = Path.Combine(Path.GetDirectoryName(_db.File)!, "nope.db");
        HeraldCli.Result absent = await HeraldCli.RunAsync("stats", "--sqlite", missing);
        Assert.Equal(1, absent.ExitCode);
        Assert.Contains($"No such file: '{missing}'", absent.Error);
        Assert.False(File.Exists(missing)); // never creates an empty database for a mistyped path

        await File.WriteAllTextAsync(_db.File, "these are my notes, not a database");
        HeraldCli.Result notHeralds = await Herald("stats");
        Assert.Equal(1, notHeralds.ExitCode);
        Assert.Contains(_db.File, notHeralds.Error);
        Assert.Equal("these are my notes, not a database", await File.ReadAllTextAsync(_db.File));
    }

    [Fact]
    public async Task DeadLetters_AreListedShownRedrivenToTheFailedConsumerAlone_AndPurged()
    {
        string[] ids;
        await using (HeraldTestHarness first = await StartAsync(h =>
        {
            h.AddHandler<Poisoned, UserCreated>(o => { o.Name = "risk"; o.Retry = Retry.None; });
            h.AddHandler<Healed, UserCreated>(o => o.Name = "email");
        }))
        {
            for (int i = 1; i <= 4; i++)
            {
                await first.Bus.PublishAsync(TestEvents.User(i));
            }

            await first.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.DeadLettered, 2);
            await first.DeliveriesAsync(d => d.Handler == "email" && d.Outcome == DeliveryOutcome.Handled, 4);
            ids = [.. (await first.DeadLetters.ListAsync()).Select(d => d.Id)];
        }

        Assert.Equal(2, ids.Length);
        HeraldCli.Result list = await Herald("dead-letters", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.All(ids, id => Assert.Contains(id, list.Output));
        Assert.Contains("2 dead letter(s)", list.Output);
        Assert.Contains("user 1 is cursed", list.Output);
        Assert.Contains("0 dead letter(s)", (await Herald("dead-letters", "list", "--topic", "order.*")).Output);

        HeraldCli.Result show = await Herald("dead-letters", "show", ids[0]);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("risk", show.Output);
        Assert.Contains("System.InvalidOperationException", show.Output);
        Assert.Contains("\"email\":\"user1@example.com\"", show.Output);

        HeraldCli.Result unknown = await Herald("dead-letters", "show", "no-such-id");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("No dead letter with id 'no-such-id'", unknown.Error);

        // Redrive one: it goes back to "risk" alone (now healed), not to "email", which handled it already.
        HeraldCli.Result redrive = await Herald("dead-letters", "redrive", ids[0]);
        Assert.True(redrive.ExitCode == 0, redrive.ToString());
        Assert.Equal(1L, _db.Scalar("SELECT count(*) FROM herald_dead_letters"));
        await using (HeraldTestHarness second = await StartAsync(h =>
        {
            h.AddHandler<Healed, UserCreated>(o => o.Name = "risk");
            h.AddHandler<Healed, UserCreated>(o => o.Name = "email");
        }))
        {
            await second.DeliveriesAsync(d => d.Handler == "risk" && d.Outcome == DeliveryOutcome.Handled, 1);
            Assert.DoesNotContain(second.Deliveries, d => d.Handler == "email");
        }

        Assert.Equal(1, (await Herald("dead-letters", "redrive", ids[0])).ExitCode); // gone now

        HeraldCli.Result purge = await Herald("dead-letters", "purge", "--all", "--yes");
        Assert.True(purge.ExitCode == 0, purge.ToString());
        Assert.Contains("purged 1 dead letter(s)", purge.Output);
        Assert.Equal(0L, _db.Scalar("SELECT count(*) FROM herald_dead_letters"));
    }

    [Fact]
    public async Task Subscriptions_AndStats_ShowGroupsMembersLagAndCountsPerTopic()
    {
        await using (HeraldTestHarness harness = await StartAsync(h =>
        {
            h.AddHandler<Healed, UserCreated>(o => o.Name = "email");
            h.AddHandler<Anything>("user.*", o => { o.Name = "audit"; o.Group = "auditing"; });
        }))
        {
            await harness.Bus.PublishAsync(TestEvents.User(1));
            await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 2);
        }

        for (int i = 0; i < 3; i++)
        {
            await Herald("publish", "user.created", "--data", "{}");
        }

        await Herald("publish", "user.deleted", "--data", "{}");

        HeraldCli.Result subscriptions = await Herald("subscriptions");
        Assert.True(subscriptions.ExitCode == 0, subscriptions.ToString());
        string email = subscriptions.Output.Split('\n').Single(l => l.Contains("│ email ", StringComparison.Ordinal));
        Assert.Contains("email (user.created)", email);
        Assert.Matches(@"│ 1\s+│ 3\s+│", email); // checkpoint 1, lag 3 (user.deleted is not its topic)
        string audit = subscriptions.Output.Split('\n').Single(l => l.Contains("│ auditing ", StringComparison.Ordinal));
        Assert.Contains("audit (user.*)", audit);
        Assert.Matches(@"│ 1\s+│ 4\s+│", audit);

        HeraldCli.Result stats = await Herald("stats");
        Assert.True(stats.ExitCode == 0, stats.ToString());
        Assert.Matches(@"│ user.created\s+│ 4\s+│ 4\s+│", stats.Output);
        Assert.Matches(@"│ user.deleted\s+│ 1\s+│ 1\s+│", stats.Output);
        Assert.Contains("0 dead letter(s)", stats.Output);
    }

    [Fact]
    public async Task Streams_AreListedAndRead()
    {
        using (var store = new SqliteEventStore(_db.Options()))
        {
            await store.AppendEventsAsync("order-42", ExpectedVersion.NoStream, [new OrderPaid(42, 10m), new OrderPaid(42, 5m)]);
            await store.AppendEventsAsync("order-43", ExpectedVersion.NoStream, [new OrderPaid(43, 1m)]);
        }

        HeraldCli.Result list = await Herald("streams", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Matches(@"│ order-42\s+│ 2\s+│ live", list.Output);
        Assert.Contains("2 stream(s)", list.Output);

        HeraldCli.Result read = await Herald("streams", "read", "order-42");
        Assert.True(read.ExitCode == 0, read.ToString());
        Assert.Contains("2 event(s) in order-42", read.Output);
        Assert.Contains("\"amount\":5", read.Output, StringComparison.OrdinalIgnoreCase);

        HeraldCli.Result missing = await Herald("streams", "read", "order-99");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("No stream 'order-99'", missing.Error);
    }

    [Theory]
    [InlineData("dashboard", "dashboard on sqlite")]
    [InlineData("tail", "tailing '#'")]
    public async Task LongRunningCommands_StopOnSigterm_WithExitCode0(string command, string started)
    {
        await CreateFileAsync();
        string[] args = command == "dashboard" ? ["dashboard", "--urls", "http://127.0.0.1:0"] : ["tail"];
        using ChildProcess child = HeraldCli.Start([.. args, "--sqlite", _db.File]);
        await child.WaitForLineAsync(l => l.Contains(started, StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        await child.TerminateAsync();
        await child.ExitedAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, child.ExitCode);
    }

    [Fact]
    public async Task EveryCommand_HasHelpWithAnExample()
    {
        HeraldCli.Result root = await HeraldCli.RunAsync("--help");
        Assert.True(root.ExitCode == 0, root.ToString());
        Assert.Contains("herald [command] [options]", root.Output); // named herald, as installed
        Assert.Contains("Exit codes: 0 done, 1 the operation failed, 2 bad usage.", root.Output);

        foreach (string[] command in new[] { new[] { "publish" }, ["tail"], ["dead-letters", "list"], ["dead-letters", "redrive"], ["dead-letters", "purge"], ["streams", "read"], ["subscriptions"], ["stats"], ["bench"], ["dashboard"] })
        {
            HeraldCli.Result help = await HeraldCli.RunAsync([.. command, "--help"]);
            Assert.True(help.ExitCode == 0, help.ToString());
            Assert.Contains("Example: herald " + command[0], help.Output);
        }
    }
}
