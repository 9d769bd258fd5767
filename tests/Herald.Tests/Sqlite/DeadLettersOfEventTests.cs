using Herald.Sqlite;
using Herald.Testing;
using Herald.Tests.Cli;
using Herald.Tests.Support;

namespace Herald.Tests.Sqlite;

/// <summary>Issue 17: an event's page loaded 10,000 dead letters of its topic to find its own; SQLite finds them by event id.</summary>
public sealed class DeadLettersOfEventTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task OfEvent_FindsThatEventsDeadLettersOnly()
    {
        await using (HeraldTestHarness harness = await HeraldTestHarness.StartAsync(h =>
        {
            h.UseSqlite(_db.ConnectionString, o => o.PollInterval = TimeSpan.FromMilliseconds(20));
            h.AddHandler<CliSqliteTests.Poisoned, UserCreated>(o => o.Retry = Retry.None);
        }))
        {
            for (int i = 1; i <= 5; i++)
            {
                await harness.Bus.PublishAsync(TestEvents.User(i));
            }

            await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.DeadLettered, 3, TimeSpan.FromSeconds(30)); // 1, 3, 5
        }

        var store = new SqliteDeadLetterStore(_db.Options());
        IReadOnlyList<DeadLetter> all = await store.ListAsync(null, 100, CancellationToken.None);
        DeadLetter third = Assert.Single(all, d => ((UserCreated)new CloudEventJsonFormatter(new SystemTextJsonEventSerializer()).DecodeData(d.Envelope, typeof(UserCreated))!).Id == 3);

        DeadLetter found = Assert.Single(store.OfEvent(third.Envelope.Id));

        Assert.Equal(third.Id, found.Id);
        Assert.Empty(store.OfEvent("no-such-event"));
    }
}
