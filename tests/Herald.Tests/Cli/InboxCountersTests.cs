using Herald.Cli;
using Herald.Dashboard.Systems;
using Herald.Sqlite;
using Herald.Tests.Support;

namespace Herald.Tests.Cli;

/// <summary>
/// The live view counts handled deliveries from the inbox's records, reading on from the newest millisecond it counted.
/// Records are stamped in milliseconds and many share one: a record of that millisecond committed after a read is
/// counted by the next read, and none is counted twice.
/// </summary>
public sealed class InboxCountersTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task RecordsOfOneMillisecond_CommittedAcrossTwoReads_AreEachCountedOnce()
    {
        await using (var store = new SqliteInboxStore(_db.Options()))
        {
            Assert.True(await store.TryBeginAsync("Email", "warm", CancellationToken.None)); // creates the file
        }

        await using HeraldSystem system = SqliteSystem.Open(_db.File);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 60_000; // after the view opened
        _db.Scalar("INSERT INTO herald_consumers (name) VALUES ('Email'), ('Points') ON CONFLICT DO NOTHING");
        void Record(string id, string consumer, long time) =>
            _db.Scalar($"INSERT INTO herald_inbox_records (event_id, consumer, time) VALUES ('{id}', (SELECT id FROM herald_consumers WHERE name = '{consumer}'), {time})");

        Record("a", "Email", now);
        Record("a", "Points", now);
        Assert.Equal(2, (await system.ReadCountersAsync(CancellationToken.None)).Handled);

        Record("b", "Email", now); // the same millisecond, committed after the read
        Record("c", "Email", now + 1);
        Assert.Equal(4, (await system.ReadCountersAsync(CancellationToken.None)).Handled);
        Assert.Equal(4, (await system.ReadCountersAsync(CancellationToken.None)).Handled); // nothing new: nothing counted again
    }
}
