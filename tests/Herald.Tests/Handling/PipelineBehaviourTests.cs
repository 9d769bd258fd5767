using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Handling;

public sealed class PipelineBehaviourTests
{
    public sealed class Stuck(Probe probe) : IEventHandler<UserCreated>
    {
        public async Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                probe.SawCancellation = true;
                throw;
            }
        }
    }

    public sealed class Counting(Probe probe) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref probe.Attempts);
            return Task.CompletedTask;
        }
    }

    public sealed class AlsoCounting(Probe probe) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            probe.Seen.Enqueue(context.Id);
            return Task.CompletedTask;
        }
    }

    public sealed class Ordered(Probe probe) : IEventHandler<Numbered>
    {
        public async Task HandleAsync(EventContext<Numbered> context, CancellationToken cancellationToken)
        {
            probe.ByKey.GetOrAdd(context.Event.Publisher, _ => new()).Enqueue(context.Event.Sequence);
            if (context.Event.Sequence % 64 == 0)
            {
                await Task.Yield(); // let the other lanes interleave
            }
        }
    }

    /// <summary>Tags every delivery, to show user middleware runs in the pipeline.</summary>
    public sealed class Tagging(Probe probe) : IDeliveryMiddleware
    {
        public async ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next)
        {
            probe.Seen.Enqueue($"before {context.Handler.Name}");
            await next(context);
            probe.Seen.Enqueue($"after {context.Outcome}");
        }
    }

    [Fact]
    public async Task Timeout_FiresHandlerToken_AttemptFailsWithTimeout()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Stuck, UserCreated>(o => { o.Timeout = TimeSpan.FromMilliseconds(100); o.Retry = Retry.None; }),
            s => s.AddSingleton(probe));

        await harness.Bus.PublishAsync(TestEvents.User(1));
        DeadLetter letter = await harness.DeadLettered<UserCreated>();

        Assert.True(probe.SawCancellation);
        Assert.Equal(typeof(HandlerTimeoutException).FullName, letter.ExceptionType);
        Assert.Contains("did not finish", letter.ExceptionMessage, StringComparison.Ordinal);
        Assert.Contains("within 100 ms", letter.ExceptionMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idempotency_AHeraldMadeId_IsOneIdWhetherSeenAsUuidOrAsText()
    {
        // Typed publishes carry their id as a UUID (the in-memory inbox keys on it without the text); the same id
        // arriving again, as the same envelope or as text from elsewhere, is the same event to the inbox.
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Counting, UserCreated>().AddHandler<AlsoCounting, UserCreated>(),
            s => s.AddSingleton(probe));
        await harness.Bus.PublishAsync(TestEvents.User(7));
        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 2);
        Envelope first = harness.Deliveries[0].Envelope;
        Assert.True(first.TryGetUuid(out Guid uuid));
        Assert.Equal(uuid.ToString(), first.Id);

        await harness.Bus.PublishAsync(first);                                                                  // the same envelope
        await harness.Bus.PublishAsync(new Envelope("user.created", TestEvents.User(7), first.Time) { Id = first.Id }); // its id as text
        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Duplicate, 4);

        Assert.Equal(1, probe.Attempts);
        Assert.All(harness.Host.Consumers, c => Assert.Equal(2, c.Stats.Duplicates));
        Assert.All(harness.Host.Consumers, c => Assert.Equal(1, c.Stats.Handled));
    }

    [Fact]
    public async Task Idempotency_SameEventIdTwice_HandlerRunsOncePerConsumer()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Counting, UserCreated>().AddHandler<AlsoCounting, UserCreated>(),
            s => s.AddSingleton(probe));
        var envelope = new Envelope("user.created", TestEvents.User(1), TestEvents.Now) { Id = "evt-1" };

        await harness.Bus.PublishAsync(envelope);
        await harness.Bus.PublishAsync(envelope);
        await harness.DeliveriesAsync(_ => true, 4);

        Assert.Equal(1, probe.Attempts);
        Assert.Equal(["evt-1"], probe.Seen);
        Assert.All(harness.Host.Consumers, c => Assert.Equal(1, c.Stats.Duplicates));
        Assert.All(harness.Host.Consumers, c => Assert.Equal(1, c.Stats.Handled));
    }

    [Fact]
    public async Task Idempotency_Off_RunsEveryDelivery()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(h => h.AddHandler<Counting, UserCreated>(o => o.Idempotent = false), s => s.AddSingleton(probe));
        var envelope = new Envelope("user.created", TestEvents.User(1), TestEvents.Now) { Id = "evt-1" };

        await harness.Bus.PublishAsync(envelope);
        await harness.Bus.PublishAsync(envelope);
        await harness.DeliveriesAsync(_ => true, 2);

        Assert.Equal(2, probe.Attempts);
    }

    [Fact]
    public async Task OrderedByKey_Concurrency8_KeepsPerKeyOrderOver100kEvents()
    {
        const int keys = 100;
        const int perKey = 1000;
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Ordered, Numbered>(o => { o.Concurrency = 8; o.OrderedByKey = true; o.Capacity = 256; }),
            s => s.AddSingleton(probe));

        for (int i = 0; i < perKey; i++)
        {
            for (int k = 0; k < keys; k++)
            {
                await harness.Bus.PublishAsync(new Numbered(k, i), new PublishOptions { Key = $"user-{k}" });
            }
        }

        await harness.DeliveriesAsync(_ => true, keys * perKey, TimeSpan.FromMinutes(2));

        Assert.Equal(keys, probe.ByKey.Count);
        Assert.All(probe.ByKey, pair => Assert.Equal(Enumerable.Range(0, perKey), pair.Value));
    }

    [Fact]
    public async Task UserMiddleware_RunsInsideThePipeline()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<AlsoCounting, UserCreated>().Use<Tagging>(),
            s => s.AddSingleton(probe));

        await harness.Bus.PublishAsync(TestEvents.User(1));
        await harness.Consumed<UserCreated>();

        Assert.Equal("before AlsoCounting", probe.Seen.First());
        Assert.Equal("after Handled", probe.Seen.Last());
    }

    [Fact]
    public async Task Pipeline_StepsCanBeRemoved()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.AddHandler<Counting, UserCreated>();
                PipelineStep idempotency = h.Pipeline.Single(s => s.Name == "idempotency");
                h.Pipeline.Remove(idempotency);
            },
            s => s.AddSingleton(probe));
        var envelope = new Envelope("user.created", TestEvents.User(1), TestEvents.Now) { Id = "evt-1" };

        await harness.Bus.PublishAsync(envelope);
        await harness.Bus.PublishAsync(envelope);
        await harness.DeliveriesAsync(_ => true, 2);

        Assert.Equal(2, probe.Attempts);
    }
}
