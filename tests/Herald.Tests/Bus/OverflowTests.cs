using System.Diagnostics;
using Herald.Tests.Support;

namespace Herald.Tests.Bus;

public sealed class OverflowTests
{
    private static async Task PublishNumbers(EventBus bus, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }
    }

    [Fact]
    public async Task DropOldest_StalledReader_KeepsLastTenCountsNinety()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 10, Overflow = Overflow.DropOldest });

        await PublishNumbers(bus, 100);

        Assert.Equal(90, sub.Stats.DroppedOldest);
        Assert.Equal(90, sub.Stats.Dropped);
        Assert.Equal(90, sub.Stats.DroppedByReason[DropReason.Oldest]);
        Assert.Equal(0, sub.Stats.DroppedByReason[DropReason.Newest]);
        Assert.Equal(10, sub.Stats.Queued);
        Assert.Equal(Enumerable.Range(90, 10), Drain.Queued(sub).Select(e => e.Event.Sequence));
        Assert.Equal(10, sub.Stats.Delivered);
    }

    [Fact]
    public async Task DropNewest_StalledReader_KeepsFirstTenCountsNinety()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 10, Overflow = Overflow.DropNewest });

        await PublishNumbers(bus, 100);

        Assert.Equal(90, sub.Stats.DroppedNewest);
        Assert.Equal(0, sub.Stats.DroppedOldest);
        Assert.Equal(Enumerable.Range(0, 10), Drain.Queued(sub).Select(e => e.Event.Sequence));
    }

    [Fact]
    public async Task Reject_FullQueue_ThrowsAtOnceNamingSubscription()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Name = "risk", Capacity = 10, Overflow = Overflow.Reject });
        await PublishNumbers(bus, 10);

        PublishRejectedException ex = await Assert.ThrowsAsync<PublishRejectedException>(async () => await bus.PublishAsync(new Numbered(0, 10)));

        Assert.Contains("'risk'", ex.Message, StringComparison.Ordinal);
        Assert.Equal("risk", ex.Subscription);
        Assert.Equal(1, sub.Stats.Rejected);
        Assert.Equal(0, sub.Stats.Dropped);
        Assert.Equal(10, bus.Stats.Published);
        Assert.Equal(Enumerable.Range(0, 10), Drain.Queued(sub).Select(e => e.Event.Sequence));
    }

    [Fact]
    public async Task Wait_StalledReader_ThrowsAfterTimeoutNamingSubscription()
    {
        await using var bus = new EventBus(new EventBusOptions { PublishTimeout = TimeSpan.FromMilliseconds(300) });
        await using var sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Name = "points", Capacity = 10 });
        await PublishNumbers(bus, 10);

        var clock = Stopwatch.StartNew();
        PublishTimeoutException ex = await Assert.ThrowsAsync<PublishTimeoutException>(async () => await bus.PublishAsync(new Numbered(0, 10)));
        clock.Stop();

        Assert.Contains("'points'", ex.Message, StringComparison.Ordinal);
        Assert.Equal("points", ex.Subscription);
        Assert.Equal(TimeSpan.FromMilliseconds(300), ex.Timeout);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(20));
        Assert.Equal(1, sub.Stats.TimedOut);
        Assert.Equal(10, sub.Stats.Queued);
    }

    [Fact]
    public async Task Wait_ReaderMakesRoom_PublishCompletes()
    {
        await using var bus = new EventBus(new EventBusOptions { PublishTimeout = TimeSpan.FromSeconds(30) });
        await using var sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 2 });
        await PublishNumbers(bus, 2);

        ValueTask pending = bus.PublishAsync(new Numbered(0, 2));
        Assert.False(pending.IsCompleted, "the queue is full, so the publish must wait");

        Assert.True(sub.TryRead(out EventContext<Numbered> first));
        await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, first.Event.Sequence);
        Assert.Equal([1, 2], Drain.Queued(sub).Select(e => e.Event.Sequence));
    }

    [Fact]
    public async Task Wait_CancelledWhileWaiting_ThrowsOperationCanceled()
    {
        await using var bus = new EventBus(new EventBusOptions { PublishTimeout = TimeSpan.FromSeconds(30) });
        await using var sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 1 });
        await PublishNumbers(bus, 1);
        using var cts = new CancellationTokenSource();

        ValueTask pending = bus.PublishAsync(new Numbered(0, 1), cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        Assert.Equal(0, sub.Stats.TimedOut);
    }

    [Fact]
    public async Task SlowSubscriber_DoesNotStopDropPolicySubscribers()
    {
        await using var bus = new EventBus(new EventBusOptions { PublishTimeout = TimeSpan.FromMilliseconds(200) });
        await using var dropping = bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 5, Overflow = Overflow.DropOldest });
        await using var fast = bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 1000 });

        await PublishNumbers(bus, 50);

        Assert.Equal(45, dropping.Stats.DroppedOldest);
        Assert.Equal(50, Drain.Queued(fast).Count);
    }
}
