using Herald.Tests.Support;

namespace Herald.Tests.Bus;

public sealed class GateTests
{
    [Fact]
    public async Task Block_PublishToMatchingTopic_ThrowsNamingGate()
    {
        await using var bus = new EventBus();
        await using var orders = bus.Subscribe<OrderPaid>();
        await using var users = bus.Subscribe<UserCreated>();
        bus.Gates.Block("order.*");

        TopicBlockedException ex = await Assert.ThrowsAsync<TopicBlockedException>(async () => await bus.PublishAsync(new OrderPaid(1, 5m)));
        await bus.PublishAsync(TestEvents.User(1));

        Assert.Contains("'order.*'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'order.paid'", ex.Message, StringComparison.Ordinal);
        Assert.Equal("order.*", ex.Pattern);
        Assert.Empty(Drain.Queued(orders));
        Assert.Single(Drain.Queued(users));
        Assert.Equal(1, bus.Stats.Gated);
        Assert.Equal(1, bus.Stats.Published);
    }

    [Fact]
    public async Task Block_OnlyMatchingTopics()
    {
        await using var bus = new EventBus();
        await using var late = bus.Subscribe<OrderPaidLate>();
        bus.Gates.Block("order.*");

        await bus.PublishAsync(new OrderPaidLate(1)); // order.paid.late has three segments: not covered by order.*

        Assert.Single(Drain.Queued(late));
    }

    [Fact]
    public async Task Resume_AfterBlock_PublishesAgain()
    {
        await using var bus = new EventBus();
        await using var orders = bus.Subscribe<OrderPaid>();
        bus.Gates.Block("order.*");
        Assert.True(bus.Gates.Resume("order.*"));
        Assert.False(bus.Gates.Resume("order.*"));

        await bus.PublishAsync(new OrderPaid(1, 5m));

        Assert.Single(Drain.Queued(orders));
        Assert.Empty(bus.Gates.List());
    }

    [Fact]
    public async Task Block_Discard_CountsAsGatedWithoutThrowing()
    {
        await using var bus = new EventBus();
        await using var orders = bus.Subscribe<OrderPaid>();
        bus.Gates.Block("order.#", BlockBehavior.Discard);

        await bus.PublishAsync(new OrderPaid(1, 5m));
        await bus.PublishAsync(new OrderPaid(2, 5m));

        Assert.Empty(Drain.Queued(orders));
        Assert.Equal(2, bus.Stats.Gated);
        Assert.Equal(0, bus.Stats.Published);
        Assert.Equal(new GateInfo("order.#", GateState.Blocked, 0, BlockBehavior.Discard), Assert.Single(bus.Gates.List()));
    }

    [Fact]
    public async Task Pause_HoldsEvents_ResumeDeliversThemInOrderBeforeNewOnes()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe<Numbered>();
        bus.Gates.Pause("test.*");

        for (int i = 0; i < 5; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        Assert.Equal(0, sub.Stats.Queued);
        Assert.Equal(5, bus.Stats.Held);
        Assert.Equal(5, bus.Stats.Published);
        Assert.Equal(new GateInfo("test.*", GateState.Paused, 5, BlockBehavior.Throw), Assert.Single(bus.Gates.List()));

        Assert.True(bus.Gates.Resume("test.*"));
        for (int i = 5; i < 10; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        List<EventContext<Numbered>> got = await Drain.ReadAsync(sub, 10);
        Assert.Equal(Enumerable.Range(0, 10), got.Select(e => e.Event.Sequence));
        Assert.Equal(10, bus.Stats.Published);
    }

    [Fact]
    public async Task Resume_ReleasedEventRefused_CountedLoggedAndTheReleaseGoesOn()
    {
        var logs = new ListLoggerProvider();
        await using var bus = new EventBus(new EventBusOptions { LoggerFactory = logs });
        await using var numbered = bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 1, Overflow = Overflow.Reject });
        await using var orders = bus.Subscribe<OrderPaid>();
        bus.Gates.Pause("#");
        for (int i = 0; i < 3; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        await bus.PublishAsync(new OrderPaid(1, 5m)); // released last, in order: once it arrives, the three before it were tried

        Assert.True(bus.Gates.Resume("#"));
        await Drain.ReadAsync(orders, 1);

        Assert.Equal(2, bus.Stats.GateReleaseFailures); // the queue of one took the first; Reject refused the others
        Assert.Equal([0], Drain.Queued(numbered).Select(e => e.Event.Sequence));
        Assert.Equal(2, logs.Lines.Count(l => l.Id.Id == 1006 && l.Message.Contains("held by gate '#'", StringComparison.Ordinal)));
        Assert.Equal(0, bus.Stats.DroppedOnDispose);
    }

    [Fact]
    public async Task Pause_FullGate_PublishTimesOutNamingGate()
    {
        await using var bus = new EventBus(new EventBusOptions { PausedGateCapacity = 2, PublishTimeout = TimeSpan.FromMilliseconds(200) });
        bus.Gates.Pause("test.#");
        await bus.PublishAsync(new Numbered(0, 0));
        await bus.PublishAsync(new Numbered(0, 1));

        PublishTimeoutException ex = await Assert.ThrowsAsync<PublishTimeoutException>(async () => await bus.PublishAsync(new Numbered(0, 2)));

        Assert.Contains("'test.#'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, bus.Stats.Held);
    }

    [Fact]
    public async Task BlockWinsOverPause()
    {
        await using var bus = new EventBus();
        bus.Gates.Pause("test.#");
        bus.Gates.Block("test.numbered");

        await Assert.ThrowsAsync<TopicBlockedException>(async () => await bus.PublishAsync(new Numbered(0, 0)));
    }

    [Fact]
    public async Task Dispose_WhilePaused_CountsHeldAsDroppedAndStopsEverything()
    {
        var bus = new EventBus();
        bus.Gates.Pause("test.#");
        for (int i = 0; i < 3; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        await bus.DisposeAsync();

        Assert.Equal(3, bus.Stats.DroppedOnDispose);
        Assert.Equal(0, bus.Stats.BackgroundTasks);
    }

    [Fact]
    public async Task Dispose_WhileResumeIsBlockedOnAFullQueue_EveryHeldEventIsDeliveredOrCounted()
    {
        var bus = new EventBus(new EventBusOptions { PublishTimeout = TimeSpan.FromMinutes(5) });
        Subscription<Numbered> sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 1 });
        bus.Gates.Pause("test.#");
        for (int i = 0; i < 3; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        bus.Gates.Resume("test.#"); // the release fills the queue with the first event, then waits for room
        await bus.DisposeAsync();

        // Whatever point the release had reached, nothing vanished: queued ones count as dropped (disposed),
        // held or in-flight ones as dropped on dispose.
        Assert.Equal(3, sub.Stats.Dropped + bus.Stats.DroppedOnDispose);
        Assert.Equal(0, bus.Stats.BackgroundTasks);
        Assert.Throws<ObjectDisposedException>(() => bus.Subscribe<Numbered>());
    }

    [Fact]
    public async Task Gates_BadPattern_Throws()
    {
        await using var bus = new EventBus();
        Assert.Throws<InvalidTopicException>(() => bus.Gates.Block("Order.*"));
        Assert.Throws<InvalidTopicException>(() => bus.Gates.Pause("order."));
    }
}
