using Herald.Sqlite;
using Herald.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Herald.Tests.Sqlite;

public sealed class OutboxRelayTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task Relay_ForwardsCommittedOutboxEventsInOrder_AtLeastOnce_ThroughATargetOutage()
    {
        await using var source = new EventBus(new EventBusOptions().UseSqlite(_db.Options()));
        await using var target = new EventBus();
        await using Subscription<UserCreated> received = target.Subscribe<UserCreated>(new SubscriptionOptions { Capacity = 1000 });
        var relay = new SqliteOutboxRelay(source, target) { RetryDelay = TimeSpan.FromMilliseconds(50) };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task running = relay.RunAsync(cts.Token);

        // The outbox: rows and events commit together; a rolled-back transaction forwards nothing.
        using var connection = new SqliteConnection(_db.ConnectionString);
        connection.Open();
        for (int batch = 0; batch < 4; batch++)
        {
            using SqliteTransaction tx = connection.BeginTransaction();
            for (int i = 0; i < 10; i++)
            {
                await source.PublishAsync(new UserCreated((batch * 10) + i, "x@y.z", DateTimeOffset.UnixEpoch), new PublishOptions { Transaction = tx });
            }

            if (batch == 2)
            {
                tx.Rollback();
            }
            else
            {
                tx.Commit();
            }
        }

        var ids = new List<long>();
        await ReadAsync(received, ids, 20, cts.Token);

        // The target refuses for a while: the relay retries from its checkpoint, and loses nothing.
        target.Gates.Block("user.*");
        using (SqliteTransaction tx = connection.BeginTransaction())
        {
            for (int i = 100; i < 110; i++)
            {
                await source.PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch), new PublishOptions { Transaction = tx });
            }

            tx.Commit();
        }

        await WaitUntilRefusedAsync(target, cts.Token);
        target.Gates.Resume("user.*");
        await ReadAsync(received, ids, 30 + 10, cts.Token, distinct: true);

        long[] expected = [.. Enumerable.Range(0, 20).Select(i => (long)i), .. Enumerable.Range(30, 10).Select(i => (long)i), .. Enumerable.Range(100, 10).Select(i => (long)i)];
        Assert.Equal(expected, ids.Distinct());
        Assert.Equal(expected, ids.Where((id, i) => i == 0 || ids[i - 1] != id)); // in order; a re-forwarded event only repeats in place

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    [Fact]
    public async Task Relay_IntoItsOwnSource_IsRefused()
    {
        await using var bus = new EventBus(new EventBusOptions().UseSqlite(_db.Options()));
        Assert.Throws<ArgumentException>(() => new SqliteOutboxRelay(bus, bus));
    }

    private static async Task ReadAsync(Subscription<UserCreated> subscription, List<long> ids, int distinctCount, CancellationToken ct, bool distinct = false)
    {
        await foreach (EventContext<UserCreated> e in subscription.ReadAllAsync(ct))
        {
            ids.Add(e.Event.Id);
            if ((distinct ? ids.Distinct().Count() : ids.Count) >= distinctCount)
            {
                return;
            }
        }
    }

    private static async Task WaitUntilRefusedAsync(EventBus target, CancellationToken ct)
    {
        // The gate counts what it refused: wait (bounded by ct) until the relay has met the outage at least twice.
        while (target.Stats.Gated < 2)
        {
            await Task.Delay(10, ct);
        }
    }
}
