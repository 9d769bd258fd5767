using Herald.Testing;
using Herald.Tests.Support;

namespace Herald.Tests.Cli;

/// <summary>Issue 17: <c>dead-letters purge &lt;id&gt;</c> deleted at once; it asks first, as the bulk form does.</summary>
public sealed class CliPurgeOneTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task PurgeOne_WithoutATerminalOrYes_IsRefused_AndTheDeadLetterStays()
    {
        await using (HeraldTestHarness harness = await HeraldTestHarness.StartAsync(h =>
        {
            h.UseSqlite(_db.ConnectionString, o => o.PollInterval = TimeSpan.FromMilliseconds(20));
            h.AddHandler<CliSqliteTests.Poisoned, UserCreated>(o => o.Retry = Retry.None);
        }))
        {
            await harness.Bus.PublishAsync(TestEvents.User(1));
            await harness.DeadLettered<UserCreated>(timeout: TimeSpan.FromSeconds(30));
        }

        string id = (string)_db.Scalar("SELECT id FROM herald_dead_letters")!;

        HeraldCli.Result asked = await HeraldCli.RunAsync("dead-letters", "purge", id, "--sqlite", _db.File);
        Assert.Equal(2, asked.ExitCode);
        Assert.Contains("add --yes", asked.Error, StringComparison.Ordinal);
        Assert.Equal(1L, _db.Scalar("SELECT count(*) FROM herald_dead_letters"));

        HeraldCli.Result purged = await HeraldCli.RunAsync("dead-letters", "purge", id, "--yes", "--sqlite", _db.File);
        Assert.True(purged.ExitCode == 0, purged.ToString());
        Assert.Equal(0L, _db.Scalar("SELECT count(*) FROM herald_dead_letters"));
    }
}
