using Herald.Tests.Support;

namespace Herald.Tests.Bus;

public sealed class ConcurrencyTests
{
    private const int Publishers = 8;
    private const int PerPublisher = 100_000;

    [Fact]
    public async Task PublishStorm_WithSubscriptionsComingAndGoing_SteadySubscribersGetEverythingOnceInOrder()
    {
        await using var bus = new EventBus(new EventBusOptions { PublishTimeout = TimeSpan.FromSeconds(60) });
        NumberedReader[] steady =
        [
            bus.Subscribe<Numbered>(new SubscriptionOptions { Name = "typed" }),
            bus.Subscribe("test.*", new SubscriptionOptions { Name = "pattern" }).AsNumbered(),
            bus.Subscribe("#", new SubscriptionOptions { Name = "everything", Capacity = 64 }).AsNumbered(),
        ];
        Task<int[]>[] readers = [.. steady.Select(s => Task.Run(() => ReadAndCheckOrder(s)))];

        using var stopChurn = new CancellationTokenSource();
        Task<int> churn = Task.Run(() => Churn(bus, stopChurn.Token));

        Task[] publishers = [.. Enumerable.Range(0, Publishers).Select(p => Task.Run(async () =>
        {
            for (int i = 0; i < PerPublisher; i++)
            {
                await bus.PublishAsync(new Numbered(p, i));
            }
        }))];
        await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromMinutes(3));
        await stopChurn.CancelAsync();
        int churned = await churn;

        foreach (Task<int[]> reader in readers)
        {
            int[] counts = await reader.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.All(counts, c => Assert.Equal(PerPublisher, c));
        }

        Assert.True(churned > 10, $"subscriptions came and went during the storm ({churned})");
        Assert.Equal(Publishers * PerPublisher, bus.Stats.Published);
        foreach (NumberedReader s in steady)
        {
            Assert.Equal(0, s.Stats.Dropped);
            await s.DisposeAsync();
        }
    }

    /// <summary>Reads until every publisher's last number arrived; fails on a gap, a duplicate or a reordering.</summary>
    private static async Task<int[]> ReadAndCheckOrder(NumberedReader sub)
    {
        int[] next = new int[Publishers];
        int finished = 0;
        await foreach (Numbered n in sub.ReadAllAsync())
        {
            if (n.Sequence != next[n.Publisher])
            {
                throw new InvalidOperationException($"{sub.Name}: publisher {n.Publisher} expected {next[n.Publisher]}, got {n.Sequence}");
            }

            if (++next[n.Publisher] == PerPublisher && ++finished == Publishers)
            {
                break;
            }
        }

        return next;
    }

    private static async Task<int> Churn(EventBus bus, CancellationToken stop)
    {
        int churned = 0;
        var options = new[]
        {
            new SubscriptionOptions { Capacity = 8, Overflow = Overflow.DropOldest },
            new SubscriptionOptions { Capacity = 8, Overflow = Overflow.DropNewest, Group = "churn" },
            new SubscriptionOptions { Capacity = 8, Overflow = Overflow.DropOldest, Lanes = 3 },
        };
        while (!stop.IsCancellationRequested)
        {
            SubscriptionOptions o = options[churned % options.Length];
            await using (Subscription<Numbered> transient = bus.Subscribe<Numbered>(o))
            {
                // A reader that reads a little, so both the reading and the disposing race the publishers.
                for (int i = 0; i < 4 && transient.TryRead(out _); i++)
                {
                }

                await Task.Yield();
            }

            await using (Subscription<object> withReader = bus.Subscribe("test.#", new SubscriptionOptions { Capacity = 16 }))
            {
                Task reading = Task.Run(async () =>
                {
                    await foreach (EventContext<object> _ in withReader.ReadAllAsync())
                    {
                    }
                });
                await Task.Yield();
                await withReader.DisposeAsync();
                await reading.WaitAsync(TimeSpan.FromSeconds(30));
            }

            churned++;
        }

        return churned;
    }
}

/// <summary>Reads typed or untyped subscriptions as <see cref="Numbered"/>.</summary>
public sealed class NumberedReader(string name, Func<IAsyncEnumerable<Numbered>> read, Func<SubscriptionStats> stats, Func<ValueTask> dispose)
{
    public string Name => name;

    public SubscriptionStats Stats => stats();

    public IAsyncEnumerable<Numbered> ReadAllAsync() => read();

    public ValueTask DisposeAsync() => dispose();

    public static implicit operator NumberedReader(Subscription<Numbered> s) =>
        new(s.Name, () => s.ReadAllAsync().Select(e => e.Event), () => s.Stats, s.DisposeAsync);
}

public static class NumberedReaderExtensions
{
    public static NumberedReader AsNumbered(this Subscription<object> s) =>
        new(s.Name, () => s.ReadAllAsync().Select(e => (Numbered)e.Event), () => s.Stats, s.DisposeAsync);
}
