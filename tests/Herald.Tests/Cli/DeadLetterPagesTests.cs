using Herald.Cli;
using Herald.Dashboard.Systems;
using Herald.Sqlite;
using Herald.Tests.Support;

namespace Herald.Tests.Cli;

/// <summary>
/// Issue 17: <c>dead-letters redrive|purge --all</c> and <c>stats</c> loaded every dead letter, envelopes included; they
/// read ids and topics a page (1,000) at a time.
/// </summary>
public sealed class DeadLetterPagesTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task Ids_AreReadAcrossPages_FilteredByTopic_InOrder()
    {
        await using (var bus = new EventBus(new EventBusOptions().UseSqlite(_db.Options())))
        {
            // the file exists
        }

        var deadLetters = new SqliteDeadLetterStore(_db.Options());
        for (int i = 0; i < 2_100; i++)
        {
            string topic = i % 3 == 0 ? "order.paid" : "user.created";
            await deadLetters.AddAsync(new DeadLetter($"dl-{i:D5}", new Envelope(topic, null, TestEvents.Now), "c", "failed", null, null, 1, TestEvents.Now), CancellationToken.None);
        }

        await using HeraldSystem system = SqliteSystem.Open(_db.File);
        var all = new List<(string Id, string Topic)>();
        await foreach ((string Id, string Topic) letter in system.ListDeadLetterIdsAsync(null, CancellationToken.None))
        {
            all.Add(letter);
        }

        var orders = new List<string>();
        await foreach ((string id, string _) in system.ListDeadLetterIdsAsync(TopicPattern.Parse("order.*"), CancellationToken.None))
        {
            orders.Add(id);
        }

        Assert.Equal(2_100, all.Count);
        Assert.Equal(Enumerable.Range(0, 2_100).Select(i => $"dl-{i:D5}"), all.Select(l => l.Id));
        Assert.Equal(700, orders.Count);
        Assert.All(orders, id => Assert.Equal(0, int.Parse(id[3..], System.Globalization.CultureInfo.InvariantCulture) % 3));
    }
}
