using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Handling;

public sealed class RetryAndDeadLetterTests
{
    /// <summary>Fails while the probe says so, recording the (fake) time of every attempt.</summary>
    public sealed class Flaky(Probe probe, TimeProvider clock) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            probe.AttemptTimes.Enqueue(clock.GetUtcNow());
            Interlocked.Increment(ref probe.Attempts);
            if (Interlocked.Decrement(ref probe.FailuresLeft) >= 0)
            {
                throw new InvalidOperationException($"mail server down (user {context.Event.Id})");
            }

            probe.Seen.Enqueue(context.Event);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Retry_ExponentialBackoff_WaitsTheRightTimesOnTheClock()
    {
        var clock = new SignallingTimeProvider();
        var probe = new Probe { FailuresLeft = 2 };
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Flaky, UserCreated>(o =>
            {
                o.Retry = Retry.Exponential(maxAttempts: 5, initial: TimeSpan.FromMilliseconds(100), jitter: 0);
                o.Timeout = Timeout.InfiniteTimeSpan;
            }),
            s => s.AddSingleton(probe).AddSingleton<TimeProvider>(clock),
            clock);
        DateTimeOffset start = clock.GetUtcNow();

        await harness.Bus.PublishAsync(TestEvents.User(1));
        Assert.Equal(TimeSpan.FromMilliseconds(100), await clock.NextWaitAsync()); // first retry waits 100 ms
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromMilliseconds(200), await clock.NextWaitAsync()); // then 200 ms
        clock.Advance(TimeSpan.FromMilliseconds(200));
        await harness.Consumed<UserCreated>();

        Assert.Equal([start, start.AddMilliseconds(100), start.AddMilliseconds(300)], probe.AttemptTimes);
        ConsumerInfo consumer = Assert.Single(harness.Host.Consumers);
        Assert.Equal(new HandlerStats(Handled: 1, Retried: 2, DeadLettered: 0, Duplicates: 0, Failed: 0, Cancelled: 0, InFlight: 0), consumer.Stats);
    }

    /// <summary>Fails only on the first attempt, as the handler sees it.</summary>
    public sealed class FirstAttemptFails(Probe probe) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            probe.Seen.Enqueue(context.Attempt);
            return context.Attempt == 1 ? throw new TimeoutException("transient") : Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Retry_HandlerSeesTheCurrentAttempt()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<FirstAttemptFails, UserCreated>(o => o.Retry = Retry.Immediate(3)),
            s => s.AddSingleton(probe));

        await harness.Bus.PublishAsync(TestEvents.User(1));
        await harness.Consumed<UserCreated>();

        Assert.Equal([1, 2], probe.Seen.Cast<int>());
    }

    [Fact]
    public void Retry_DelayGrowsAndIsCapped_JitterStaysInBounds()
    {
        RetryPolicy policy = Retry.Exponential(10, TimeSpan.FromMilliseconds(50), max: TimeSpan.FromMilliseconds(500), jitter: 0.2);
        Assert.Equal(TimeSpan.FromMilliseconds(50), policy.DelayBefore(2, 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(100), policy.DelayBefore(3, 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(400), policy.DelayBefore(5, 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(500), policy.DelayBefore(9, 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(40), policy.DelayBefore(2, 0.0));
        Assert.Equal(TimeSpan.FromMilliseconds(60), policy.DelayBefore(2, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Retry.Exponential(0, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task LastAttemptFails_DeadLetteredWithReason_RedriveDeliversAgain()
    {
        var probe = new Probe { FailuresLeft = 3 };
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Flaky, UserCreated>(o => o.Retry = Retry.Immediate(3)),
            s => s.AddSingleton(probe).AddSingleton(TimeProvider.System));

        await harness.Bus.PublishAsync(TestEvents.User(7));
        DeadLetter letter = await harness.DeadLettered<UserCreated>();

        Assert.Equal("attempts-exhausted", letter.Reason);
        Assert.Equal(3, letter.Attempts);
        Assert.Equal("Flaky", letter.Consumer);
        Assert.Equal(typeof(InvalidOperationException).FullName, letter.ExceptionType);
        Assert.Equal("mail server down (user 7)", letter.ExceptionMessage);
        Assert.Equal(1, await harness.DeadLetters.CountAsync());
        Assert.Empty(probe.Seen);

        Assert.True(await harness.DeadLetters.RedriveAsync(letter.Id));
        EventContext<UserCreated> handled = await harness.Consumed<UserCreated>();

        Assert.Equal(7, handled.Event.Id);
        Assert.Equal(1, handled.Attempt);
        Assert.Equal(0, await harness.DeadLetters.CountAsync());
        Assert.False(await harness.DeadLetters.RedriveAsync(letter.Id));
        Assert.Equal(4, probe.Attempts);
    }

    [Fact]
    public async Task NonRetryableException_IsDeadLetteredAtOnce()
    {
        var probe = new Probe { FailuresLeft = 100 };
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Flaky, UserCreated>(o => o.Retry = Retry.Immediate(5).Handle<TimeoutException>()),
            s => s.AddSingleton(probe).AddSingleton(TimeProvider.System));

        await harness.Bus.PublishAsync(TestEvents.User(1));
        DeadLetter letter = await harness.DeadLettered<UserCreated>();

        Assert.Equal("not-retryable", letter.Reason);
        Assert.Equal(1, letter.Attempts);
    }

    [Fact]
    public async Task PoisonEvent_DeadLetteredAtOnce_NextEventHandled()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Flaky, UserCreated>(o => o.Retry = Retry.Immediate(5)),
            s => s.AddSingleton(probe).AddSingleton(TimeProvider.System));

        await harness.Bus.PublishAsync(new Envelope("user.created", "{\"id\":\"not a user\"}", TestEvents.Now));
        await harness.Bus.PublishAsync(TestEvents.User(2));

        DeadLetter letter = await harness.DeadLettered<object>();
        EventContext<UserCreated> next = await harness.Consumed<UserCreated>();

        Assert.Equal("poison", letter.Reason);
        Assert.Equal(1, letter.Attempts);
        Assert.Equal(typeof(PoisonEventException).FullName, letter.ExceptionType);
        Assert.Contains("cannot be bound to Herald.Tests.Support.UserCreated", letter.ExceptionMessage, StringComparison.Ordinal);
        Assert.Equal(2, next.Event.Id);
        Assert.Equal(1, probe.Attempts);
    }

    [Fact]
    public async Task DeadLetters_ListFiltersByTopic()
    {
        var probe = new Probe { FailuresLeft = 100 };
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Flaky, UserCreated>(o => o.Retry = Retry.None),
            s => s.AddSingleton(probe).AddSingleton(TimeProvider.System));

        await harness.Bus.PublishAsync(TestEvents.User(1));
        await harness.Bus.PublishAsync(TestEvents.User(2));
        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.DeadLettered, 2);

        Assert.Equal(2, (await harness.DeadLetters.ListAsync("user.*")).Count);
        Assert.Empty(await harness.DeadLetters.ListAsync("order.#"));
        Assert.Equal(2, await harness.DeadLetters.RedriveAllAsync("user.created"));
    }
}
