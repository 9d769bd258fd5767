using System.Text;
using Herald.Cli;
using Herald.Dashboard.Systems;
using Herald.Tests.Support;

namespace Herald.Tests.Cli;

/// <summary>
/// Issue 17: the view of a SQLite file decoded whole payloads to build list previews: 40 events of 5 MB made one 10 KB
/// <c>/api/events</c> answer cost 500 MB. A list's memory follows the number of events, not their size.
/// </summary>
public sealed class LargeEventsViewTests : IDisposable
{
    private const int Events = 20;
    private const int PayloadBytes = 2 * 1024 * 1024;

    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task ListingLargeEvents_CostsPreviews_NotPayloads_AndOneEventReadsWhole()
    {
        byte[] payload = Encoding.UTF8.GetBytes("\"" + new string('x', PayloadBytes) + "\"");
        await using (var bus = new EventBus(new EventBusOptions().UseSqlite(_db.Options())))
        {
            for (int i = 0; i < Events; i++)
            {
                await bus.PublishAsync(new Envelope("user.created", null, TestEvents.Now) { Subject = $"big-{i}", EncodedData = payload, DataContentType = "application/json" });
            }
        }

        await using HeraldSystem system = SqliteSystem.Open(_db.File);
        await system.ReadLatestAsync(1, null, CancellationToken.None); // first use: connections and statements

        long before = GC.GetAllocatedBytesForCurrentThread();
        IReadOnlyList<ObservedEvent> listed = await system.ReadLatestAsync(50, null, CancellationToken.None);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Events, listed.Count);
        Assert.True(allocated < 4 * 1024 * 1024, $"listing {Events} events of {PayloadBytes / 1024 / 1024} MB allocated {allocated / 1024 / 1024.0:0.0} MB");
        Assert.All(listed, e => Assert.True(e.IsPreview));
        Assert.Equal("big-19", listed[^1].Envelope.Subject);
        Assert.StartsWith("xxxx", Encoding.UTF8.GetString(listed[0].Envelope.EncodedData.Span), StringComparison.Ordinal);

        EventDetail? whole = await system.GetEventAsync(listed[0].Envelope.Id, CancellationToken.None);
        Assert.NotNull(whole);
        Assert.Equal(payload.Length, whole.Event.Envelope.EncodedData.Length);
        Assert.False(whole.Event.IsPreview);
    }
}
