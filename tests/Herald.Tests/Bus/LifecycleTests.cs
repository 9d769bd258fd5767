using Herald.Tests.Support;

namespace Herald.Tests.Bus;

public sealed class LifecycleTests
{
    [Fact]
    public async Task DisposeSubscription_CompletesReader_CountsQueuedAsDropped()
    {
        await using var bus = new EventBus();
        Subscription<Numbered> sub = bus.Subscribe<Numbered>();
        for (int i = 0; i < 5; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        Assert.True(sub.TryRead(out _));
        await sub.DisposeAsync();

        var read = new List<Numbered>();
        await foreach (EventContext<Numbered> e in sub.ReadAllAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token))
        {
            read.Add(e.Event);
        }

        Assert.Empty(read);
        Assert.Equal(4, sub.Stats.DroppedDisposed);
        Assert.Equal(1, sub.Stats.Delivered);
        Assert.Equal(0, bus.Stats.Subscriptions);
    }

    [Fact]
    public async Task DisposeSubscription_WakesAWaitingReader()
    {
        await using var bus = new EventBus();
        Subscription<Numbered> sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Lanes = 2 });
        Task<List<EventContext<Numbered>>> reading = Drain.ReadAsync(sub, 1);

        await sub.DisposeAsync();

        Assert.Empty(await reading.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task PublishAfterSubscriptionDisposed_DoesNotReachIt()
    {
        await using var bus = new EventBus();
        Subscription<Numbered> sub = bus.Subscribe<Numbered>();
        await sub.DisposeAsync();
        await sub.DisposeAsync(); // idempotent

        await bus.PublishAsync(new Numbered(0, 0));

        Assert.Equal(0, sub.Stats.Queued);
        Assert.Equal(1, bus.Stats.Unrouted);
    }

    [Fact]
    public async Task DisposeBus_EndsReaders_LeavesNoBackgroundTask_RefusesPublish()
    {
        var bus = new EventBus();
        Subscription<Numbered> sub = bus.Subscribe<Numbered>();
        Subscription<object> any = bus.Subscribe("#", new SubscriptionOptions { Lanes = 4 });
        Task<List<EventContext<Numbered>>> reading = Drain.ReadAsync(sub, 10);
        Task consuming = any.ConsumeAsync((_, _) => ValueTask.CompletedTask);

        // Leave a gate mid-release so the bus has background work to stop.
        bus.Gates.Pause("test.#");
        for (int i = 0; i < 3; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        bus.Gates.Resume("test.#");
        await bus.DisposeAsync();
        await bus.DisposeAsync(); // idempotent

        await reading.WaitAsync(TimeSpan.FromSeconds(20));
        await consuming.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, bus.Stats.BackgroundTasks);
        Assert.Equal(0, bus.Stats.Subscriptions);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await bus.PublishAsync(new Numbered(0, 9)));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await bus.PublishAsync(new Envelope("test.numbered", null, TestEvents.Now)));
        Assert.Throws<ObjectDisposedException>(() => bus.Subscribe<Numbered>());
    }

    [Fact]
    public async Task DisposeBus_PublisherWaitingOnFullQueue_IsReleased()
    {
        var bus = new EventBus(new EventBusOptions { PublishTimeout = TimeSpan.FromMinutes(5) });
        Subscription<Numbered> sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 1 });
        await bus.PublishAsync(new Numbered(0, 0));
        ValueTask waiting = bus.PublishAsync(new Numbered(0, 1));
        Assert.False(waiting.IsCompleted);

        await bus.DisposeAsync();

        await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(20)); // released: the event is counted as dropped (disposed)
        Assert.Equal(2, sub.Stats.DroppedDisposed);
    }

    [Fact]
    public async Task ReadAllAsync_Cancelled_Throws()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe<Numbered>();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (EventContext<Numbered> _ in sub.ReadAllAsync(cts.Token))
            {
            }
        });
    }
}
