using System.Collections.Concurrent;
using Herald.Sqlite;
using Herald.Tests.Support;

namespace Herald.Tests.Sqlite;

/// <summary>
/// Two buses on one file stand for two processes (each has its own lease holder name): one group is read by one of
/// them at a time, and the other takes the group over, from the stored checkpoint, when the first lets go.
/// </summary>
public sealed class SharedFileTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    private EventBus Bus() => new(new EventBusOptions().UseSqlite(new SqliteOptions
    {
        ConnectionString = _db.ConnectionString,
        Synchronous = SqliteSynchronous.Normal,
        PollInterval = TimeSpan.FromMilliseconds(20),
        GroupLease = TimeSpan.FromSeconds(2),
    }));

    private static Task Consume(Subscription<UserCreated> subscription, ConcurrentQueue<long> seen, CancellationToken ct) =>
        subscription.ConsumeAsync(
            (e, _) =>
            {
                seen.Enqueue(e.Event.Id);
                return ValueTask.CompletedTask;
            },
            ct);

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        // Polls a condition on the file or the consumers (another process's work has no event to wait on), bounded.
        DateTimeOffset deadline = TimeProvider.System.GetUtcNow().AddSeconds(20);
        while (!condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"waited 20 s for {what}");
            }

            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task OneGroupTwoProcesses_OneReadsAtATime_TheOtherTakesOverFromTheCheckpoint()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seenA = new ConcurrentQueue<long>();
        var seenB = new ConcurrentQueue<long>();
        EventBus a = Bus();
        await using EventBus b = Bus();
        Subscription<UserCreated> subA = a.Subscribe<UserCreated>(new SubscriptionOptions { Group = "mail" });
        Task consumeA = Consume(subA, seenA, cts.Token);
        await using Subscription<UserCreated> subB = b.Subscribe<UserCreated>(new SubscriptionOptions { Group = "mail" });
        Task consumeB = Consume(subB, seenB, cts.Token);

        for (int i = 0; i < 100; i++)
        {
            await (i % 2 == 0 ? a : b).PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch));
        }

        await WaitForAsync(() => seenA.Count + seenB.Count >= 100, "the first 100 events");
        Assert.True(seenA.IsEmpty || seenB.IsEmpty, $"both processes read the group: {seenA.Count} and {seenB.Count}");
        bool aFirst = !seenA.IsEmpty;
        (EventBus holder, EventBus other, ConcurrentQueue<long> holderSeen, ConcurrentQueue<long> otherSeen) = aFirst ? (a, b, seenA, seenB) : (b, a, seenB, seenA);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), holderSeen);

        // The holder goes away (its lease is given back): the other one carries on from the checkpoint.
        if (aFirst)
        {
            await subA.DisposeAsync();
            await a.DisposeAsync();
        }
        else
        {
            await subB.DisposeAsync();
        }

        for (int i = 100; i < 150; i++)
        {
            await other.PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch));
        }

        await WaitForAsync(() => otherSeen.Count >= 50, "the takeover");
        Assert.Equal(Enumerable.Range(100, 50).Select(i => (long)i), otherSeen);
        Assert.Equal(100, holderSeen.Count);
        await cts.CancelAsync();
        await Task.WhenAll(consumeA, consumeB).ContinueWith(_ => { }, TaskScheduler.Default);
        if (!aFirst)
        {
            await a.DisposeAsync();
        }
    }

    [Fact]
    public async Task AHolderThatStopsRenewing_LosesTheGroupWhenItsLeaseRunsOut()
    {
        await using EventBus a = Bus();
        await using Subscription<UserCreated> sub = a.Subscribe<UserCreated>(new SubscriptionOptions { Group = "audit" });
        await WaitForAsync(() => _db.Scalar("SELECT owner FROM herald_groups WHERE name = 'audit'") is string, "the first lease");

        // Another process (on another machine, so its liveness cannot be checked here) holds a lease that has run out.
        _db.Scalar("UPDATE herald_groups SET owner = 'elsewhere:1:x', lease_until = 0 WHERE name = 'audit'");
        await using EventBus b = Bus();
        await using Subscription<UserCreated> subB = b.Subscribe<UserCreated>(new SubscriptionOptions { Group = "audit" });
        await WaitForAsync(() => _db.Scalar("SELECT owner FROM herald_groups WHERE name = 'audit'") is string o && o != "elsewhere:1:x", "a takeover");
    }
}
