using Herald.Tests.Support;

namespace Herald.Tests.Bus;

public sealed class AllocationTests
{
    private const int Publishes = 10_000;

    [Fact]
    public async Task PublishAndRead_SteadyState_AllocatesOnlyTheEventAndItsEnvelope()
    {
        await using var bus = new EventBus();
        Subscription<Numbered>[] subs =
        [
            bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 2 * Publishes }),
            bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 2 * Publishes, Group = "g" }),
            bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 2 * Publishes, Group = "g" }),
        ];
        await using var pattern = bus.Subscribe("test.*", new SubscriptionOptions { Capacity = 2 * Publishes });

        // Warm up: JIT tiers, route cache, channel segments.
        for (int round = 0; round < 3; round++)
        {
            await PublishAndDrain(bus, subs, pattern);
        }

        // The budget: what one event and one envelope cost, measured the same way.
        long before = GC.GetAllocatedBytesForCurrentThread();
        var keep = new object[Publishes * 2];
        for (int i = 0; i < Publishes; i++)
        {
            keep[2 * i] = new Numbered(0, i);
            keep[(2 * i) + 1] = new Envelope("test.numbered", keep[2 * i], TestEvents.Now);
        }

        long budget = GC.GetAllocatedBytesForCurrentThread() - before - (keep.Length * IntPtr.Size) - 24;
        GC.KeepAlive(keep);

        long spent = await PublishAndDrain(bus, subs, pattern);

        Assert.True(spent <= budget, $"publishing and reading {Publishes} events allocated {spent} bytes; the event+envelope budget is {budget} ({(double)spent / Publishes:0.#} vs {(double)budget / Publishes:0.#} bytes per event)");
        foreach (Subscription<Numbered> sub in subs)
        {
            await sub.DisposeAsync();
        }
    }

    private static async Task<long> PublishAndDrain(EventBus bus, Subscription<Numbered>[] subs, Subscription<object> pattern)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Publishes; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        foreach (Subscription<Numbered> sub in subs)
        {
            while (sub.TryRead(out _))
            {
            }
        }

        while (pattern.TryRead(out _))
        {
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
