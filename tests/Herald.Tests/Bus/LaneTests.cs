using System.Collections.Concurrent;
using Herald.Tests.Support;

namespace Herald.Tests.Bus;

public sealed class LaneTests
{
    private const int Keys = 20;
    private const int PerKey = 500;

    private static async Task PublishInterleaved(EventBus bus)
    {
        for (int i = 0; i < PerKey; i++)
        {
            for (int k = 0; k < Keys; k++)
            {
                await bus.PublishAsync(new Numbered(k, i), new PublishOptions { Key = $"user-{k}" });
            }
        }
    }

    [Fact]
    public async Task ConsumeAsync_Lanes_SameKeyKeepsOrder_LanesRunInParallel()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Lanes = 4, Capacity = 64 });
        var seen = new ConcurrentDictionary<int, List<int>>();
        int total = 0;
        int inFlight = 0;
        int maxInFlight = 0;
        using var done = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        Task consuming = sub.ConsumeAsync(
            async (e, ct) =>
            {
                int now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref maxInFlight, now);
                List<int> list = seen.GetOrAdd(e.Event.Publisher, _ => []);
                lock (list)
                {
                    list.Add(e.Event.Sequence);
                }

                await Task.Yield();
                Interlocked.Decrement(ref inFlight);
                if (Interlocked.Increment(ref total) == Keys * PerKey)
                {
                    await done.CancelAsync();
                }
            },
            done.Token);

        await PublishInterleaved(bus);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consuming);

        Assert.Equal(Keys * PerKey, total);
        foreach ((int key, List<int> sequences) in seen)
        {
            Assert.True(sequences.SequenceEqual(Enumerable.Range(0, PerKey)), $"key {key} out of order");
        }

        Assert.True(maxInFlight > 1, "with 4 lanes, handlers for different keys run at the same time");
    }

    [Fact]
    public async Task ReadAllAsync_MultipleLanes_ReadsEverythingInKeyOrder()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Lanes = 3, Capacity = 16 });

        Task<List<EventContext<Numbered>>> reading = Drain.ReadAsync(sub, Keys * PerKey, seconds: 60);
        await PublishInterleaved(bus);
        List<EventContext<Numbered>> got = await reading;

        foreach (IGrouping<int, EventContext<Numbered>> key in got.GroupBy(e => e.Event.Publisher))
        {
            Assert.Equal(Enumerable.Range(0, PerKey), key.Select(e => e.Event.Sequence));
        }
    }

    [Fact]
    public async Task ConsumeAsync_HandlerThrows_StopsAndRethrows()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Lanes = 2 });
        await bus.PublishAsync(new Numbered(0, 0), new PublishOptions { Key = "a" });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            sub.ConsumeAsync((_, _) => throw new InvalidOperationException("boom")));
        Assert.Equal("boom", ex.Message);
    }

    [Fact]
    public async Task ConsumeAsync_SubscriptionDisposed_ReturnsNormally()
    {
        await using var bus = new EventBus();
        Subscription<Numbered> sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Lanes = 3 });
        int handled = 0;
        Task consuming = sub.ConsumeAsync((_, _) => { Interlocked.Increment(ref handled); return ValueTask.CompletedTask; });

        await sub.DisposeAsync();
        await consuming.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, handled);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
