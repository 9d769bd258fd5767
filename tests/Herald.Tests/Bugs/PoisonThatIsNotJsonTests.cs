using System.Collections.Concurrent;
using Herald.Testing;
using Herald.Tests.Sqlite;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Bugs;

/// <summary>
/// Issue 16, finding 5 (SQLite): an event whose type's constructor throws (valid JSON the type refuses) stopped its
/// group for good: the reader caught only JSON errors, so the checkpoint stuck, nothing was dead-lettered, and the
/// event was read again after a restart.
/// </summary>
public sealed class PoisonThatIsNotJsonTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task APayloadWhoseConstructorThrows_IsDeadLetteredAsPoison_AndTheGroupCarriesOn()
    {
        var seen = new ConcurrentBag<string>();
        await using HeraldTestHarness harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseSqlite(_db.ConnectionString, o => o.PollInterval = TimeSpan.FromMilliseconds(20));
                h.AddHandler<StrictHandler, StrictNamed>();
            },
            s => s.AddSingleton(seen));

        // Valid JSON for the topic, which StrictNamed's constructor refuses (an empty name).
        await harness.Bus.PublishAsync(new Envelope("strict.named", new Dictionary<string, string> { ["Name"] = string.Empty }, DateTimeOffset.UnixEpoch));
        await harness.Bus.PublishAsync(new StrictNamed("after"));

        await harness.Consumed<StrictNamed>(e => e.Event.Name == "after", TimeSpan.FromSeconds(30));
        DeadLetter letter = Assert.Single(await harness.DeadLetters.ListAsync("strict.named"), l => l.Consumer == nameof(StrictHandler));
        Assert.Equal("poison", letter.Reason);
        Assert.Contains(nameof(StrictNamed), letter.ExceptionMessage, StringComparison.Ordinal);
        Assert.Contains("name must not be empty", letter.ExceptionMessage, StringComparison.Ordinal);
        Assert.Equal(["after"], seen);
    }
}

/// <summary>An event whose constructor refuses an empty name.</summary>
[Topic("strict.named")]
public sealed record StrictNamed
{
    public StrictNamed(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException("name must not be empty", nameof(name));
        }

        Name = name;
    }

    public string Name { get; }
}

public sealed class StrictHandler(ConcurrentBag<string> seen) : IEventHandler<StrictNamed>
{
    public Task HandleAsync(EventContext<StrictNamed> context, CancellationToken cancellationToken)
    {
        seen.Add(context.Event.Name);
        return Task.CompletedTask;
    }
}
