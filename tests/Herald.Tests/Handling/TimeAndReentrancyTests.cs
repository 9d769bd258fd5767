using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Handling;

public sealed class TimeAndReentrancyTests
{
    public sealed class Recording(Probe probe) : IEventHandler<Heartbeat>, IEventHandler<Numbered>
    {
        public Task HandleAsync(EventContext<Heartbeat> context, CancellationToken cancellationToken)
        {
            probe.Seen.Enqueue(context.Event);
            return Task.CompletedTask;
        }

        public Task HandleAsync(EventContext<Numbered> context, CancellationToken cancellationToken)
        {
            probe.Seen.Enqueue(context.Event);
            return Task.CompletedTask;
        }
    }

    /// <summary>Event 0 publishes <see cref="Probe.Children"/> more events into its own (capacity 1) queue.</summary>
    public sealed class Reentrant(EventBus bus, Probe probe) : IEventHandler<Numbered>
    {
        public async Task HandleAsync(EventContext<Numbered> context, CancellationToken cancellationToken)
        {
            if (context.Event.Sequence == 0)
            {
                for (int i = 1; i <= probe.Children; i++)
                {
                    await bus.PublishAsync(new Numbered(0, i), cancellationToken);
                }
            }

            probe.Seen.Enqueue(context.Event.Sequence);
        }
    }

    [Fact]
    public async Task Delay_DeliversWhenDue_InDueOrder()
    {
        var clock = new SignallingTimeProvider();
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(h => h.AddHandler<Recording, Numbered>(), s => s.AddSingleton(probe), clock);

        // Scheduling arms the bus's one timer before PublishAsync returns, so advancing the clock right after is safe.
        await harness.Bus.PublishAsync(new Numbered(0, 2), new PublishOptions { Delay = TimeSpan.FromSeconds(20) });
        await harness.Bus.PublishAsync(new Numbered(0, 1), new PublishOptions { DeliverAt = clock.GetUtcNow().AddSeconds(10) });
        Assert.Equal(2, harness.Bus.Stats.Delayed);
        Assert.Equal(2, harness.Bus.Stats.Published);

        clock.Advance(TimeSpan.FromSeconds(10));
        await harness.Consumed<Numbered>(e => e.Event.Sequence == 1);
        Assert.Single(probe.Seen);
        Assert.Equal(1, harness.Bus.Stats.Delayed);

        clock.Advance(TimeSpan.FromSeconds(10));
        await harness.Consumed<Numbered>(e => e.Event.Sequence == 2);
        Assert.Equal([1, 2], probe.Seen.Cast<Numbered>().Select(n => n.Sequence));
        Assert.Equal(0, harness.Bus.Stats.Delayed);
    }

    [Fact]
    public async Task Delay_BothDelayAndDeliverAt_IsRefused()
    {
        await using var bus = new EventBus();
        var ex = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await bus.PublishAsync(new Numbered(0, 0), new PublishOptions { Delay = TimeSpan.FromSeconds(1), DeliverAt = TestEvents.Now }));
        Assert.Contains("choose one", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delay_DueEventRefused_CountedLoggedAndTheNextOnesStillDelivered()
    {
        var clock = new SignallingTimeProvider();
        var logs = new ListLoggerProvider();
        await using var bus = new EventBus(new EventBusOptions { TimeProvider = clock, LoggerFactory = logs });
        await using var numbered = bus.Subscribe<Numbered>(new SubscriptionOptions { Capacity = 1, Overflow = Overflow.Reject });
        await using var orders = bus.Subscribe<OrderPaid>();
        var later = new PublishOptions { Delay = TimeSpan.FromMinutes(1) };
        await bus.PublishAsync(new Numbered(0, 0), later);
        await bus.PublishAsync(new Numbered(0, 1), later);
        await bus.PublishAsync(new OrderPaid(1, 5m), later); // due at the same time, released after the two before it

        clock.Advance(TimeSpan.FromMinutes(1)); // scheduling armed the bus's one timer before PublishAsync returned
        await Drain.ReadAsync(orders, 1);

        Assert.Equal(1, bus.Stats.DelayedFailures);
        Assert.Equal([0], Drain.Queued(numbered).Select(e => e.Event.Sequence));
        Assert.Single(logs.Lines, l => l.Id.Id == 1009);
        Assert.Equal(0, bus.Stats.Delayed);
    }

    [Fact]
    public async Task Delay_PendingAtDispose_IsCountedAsDropped()
    {
        var clock = new SignallingTimeProvider();
        var bus = new EventBus(new EventBusOptions { TimeProvider = clock });
        await bus.PublishAsync(new Numbered(0, 0), new PublishOptions { Delay = TimeSpan.FromMinutes(1) });

        await bus.DisposeAsync();

        Assert.Equal(1, bus.Stats.DroppedOnDispose);
        Assert.Equal(0, bus.Stats.BackgroundTasks);
    }

    [Fact]
    public async Task Every_PublishesOncePerPeriod()
    {
        var clock = new SignallingTimeProvider();
        var probe = new Probe();
        int number = 0;
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Recording, Heartbeat>().Every(TimeSpan.FromSeconds(30), () => new Heartbeat(Interlocked.Increment(ref number))),
            s => s.AddSingleton(probe),
            clock);

        Assert.Equal(TimeSpan.FromSeconds(30), await clock.NextWaitAsync()); // the schedule is waiting
        for (int beat = 1; beat <= 3; beat++)
        {
            clock.Advance(TimeSpan.FromSeconds(30));
            await harness.Consumed<Heartbeat>(e => e.Event.Number == beat);
        }

        Assert.Equal([1, 2, 3], probe.Seen.Cast<Heartbeat>().Select(h => h.Number));
    }

    [Theory]
    [InlineData(2)]
    public async Task Reentrancy_HandlerPublishesIntoItsOwnFullQueue_NoDeadlockNoLoss(int children)
    {
        var probe = new Probe { Children = children };
        await using var harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.Bus.PublishTimeout = TimeSpan.FromSeconds(30);
                h.AddHandler<Reentrant, Numbered>(o => { o.Concurrency = 1; o.Capacity = 1; o.Retry = Retry.None; });
            },
            s => s.AddSingleton(probe));

        await harness.Bus.PublishAsync(new Numbered(0, 0));
        await harness.DeliveriesAsync(d => d.Handler == "Reentrant", children + 1, TimeSpan.FromSeconds(20));

        Assert.Equal(Enumerable.Range(0, children + 1), probe.Seen.Cast<int>().Order());
        ConsumerInfo consumer = Assert.Single(harness.Host.Consumers);
        Assert.Equal(children + 1, consumer.Stats.Handled);
        Assert.Equal(children - 1, consumer.Queue.Spilled); // the first child fits the queue, the rest spill
        Assert.Equal(0, await harness.DeadLetters.CountAsync());
    }

    [Fact]
    public async Task Reentrancy_SpillFull_IsRejectedWithAClearError()
    {
        var probe = new Probe { Children = 3 }; // capacity 1: one fits, one spills, the third finds the spill full
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Reentrant, Numbered>(o => { o.Concurrency = 1; o.Capacity = 1; o.Retry = Retry.None; }),
            s => s.AddSingleton(probe));

        await harness.Bus.PublishAsync(new Numbered(0, 0));
        DeadLetter letter = await harness.DeadLettered<Numbered>(e => e.Event.Sequence == 0);

        Assert.Equal(typeof(PublishRejectedException).FullName, letter.ExceptionType);
        Assert.Contains("re-entrant publish", letter.ExceptionMessage, StringComparison.Ordinal);
        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 2);
    }
}
