using Herald.Testing;
using Herald.Tests.Support;

namespace Herald.Tests.Cli;

/// <summary>
/// Issue 17: <c>tail</c> and <c>dead-letters list/show</c> printed terminal control sequences from events as they were
/// (a subject retitled the terminal and cleared the screen). Everything printed from an event is escaped.
/// </summary>
public sealed class CliTerminalSafetyTests : IDisposable
{
    /// <summary>Sets the window title, clears the screen, and hides what follows behind a right-to-left override.</summary>
    private const string Sequences = "\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202Egnp.exe";

    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    public sealed class HostileHandler : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("failed: " + Sequences);
    }

    private async Task<HeraldCli.Result> Herald(params string[] args) => await HeraldCli.RunAsync([.. args, "--sqlite", _db.File]);

    private static void AssertNoControl(HeraldCli.Result result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain(result.Output, c => char.IsControl(c) && c is not '\n' and not '\r' || c is '\u202E');
        Assert.Contains("\\u001B]0;pwned\\u0007\\u001B[2J\\u009B31m\\u202Egnp.exe", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tail_AndDeadLetters_PrintControlCharactersAsEscapes()
    {
        await using (HeraldTestHarness harness = await HeraldTestHarness.StartAsync(h =>
        {
            h.UseSqlite(_db.ConnectionString, o => o.PollInterval = TimeSpan.FromMilliseconds(20));
            h.AddHandler<HostileHandler, UserCreated>(o => o.Retry = Retry.None);
        }))
        {
            await harness.Bus.PublishAsync(TestEvents.User(1), new PublishOptions { Key = Sequences });
            await harness.DeadLettered<UserCreated>(timeout: TimeSpan.FromSeconds(30));
        }

        HeraldCli.Result tail = await Herald("tail", "#", "--from", "start", "--max", "1");
        HeraldCli.Result list = await Herald("dead-letters", "list");
        string id = (await new Herald.Sqlite.SqliteDeadLetterStore(_db.Options()).ListAsync(null, 1, CancellationToken.None))[0].Id;
        HeraldCli.Result show = await Herald("dead-letters", "show", id);

        AssertNoControl(tail);
        AssertNoControl(show);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.DoesNotContain(list.Output, c => char.IsControl(c) && c is not '\n' and not '\r' || c is '\u202E');
    }
}
