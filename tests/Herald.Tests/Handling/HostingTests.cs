using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Herald.Tests.Handling;

public sealed class HostingTests
{
    /// <summary>Even ids finish at once; odd ids wait until their token is cancelled.</summary>
    public sealed class HalfStuck(Probe probe) : IEventHandler<Numbered>
    {
        public async Task HandleAsync(EventContext<Numbered> context, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref probe.Attempts);
            if (context.Event.Sequence % 2 == 1)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
        }
    }

    /// <summary>Waits for a gate the test opens.</summary>
    public sealed class Gated(Probe probe, TaskCompletionSource gate) : IEventHandler<Numbered>
    {
        public async Task HandleAsync(EventContext<Numbered> context, CancellationToken cancellationToken)
        {
            probe.Attempt();
            await gate.Task.WaitAsync(cancellationToken);
            probe.Seen.Enqueue(context.Event.Sequence);
        }
    }

    public sealed class Mail(Probe probe) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            probe.Seen.Enqueue(context.Event.Email);
            probe.Attempt();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Stop_1000InFlightSlowDeliveries_EachCompletedOrReportedLeft_NoTaskLeaks()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.Host.ShutdownTimeout = TimeSpan.FromMilliseconds(300);
                h.AddHandler<HalfStuck, Numbered>(o => { o.Concurrency = 1000; o.Capacity = 1000; o.Timeout = Timeout.InfiniteTimeSpan; });
            },
            s => s.AddSingleton(probe));
        for (int i = 0; i < 1000; i++)
        {
            await harness.Bus.PublishAsync(new Numbered(0, i));
        }

        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 500);

        await harness.Host.StopAsync(CancellationToken.None);

        ShutdownReport report = harness.Host.LastShutdown!;
        ConsumerInfo consumer = Assert.Single(harness.Host.Consumers);
        Assert.Equal(500, consumer.Stats.Handled);
        Assert.Equal(500, report.Left["HalfStuck"]);
        Assert.Equal(1000, consumer.Stats.Handled + report.TotalLeft);
        Assert.Equal(0, report.StillRunning);
        Assert.Equal(0, consumer.Stats.InFlight);
        Assert.Equal(0, consumer.Stats.DeadLettered); // a shutdown cancellation is not a failure
    }

    [Fact]
    public async Task Stop_InFlightFinishingWithinTheDeadline_LeavesNothing()
    {
        var probe = new Probe { Expected = 10 };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.Host.ShutdownTimeout = TimeSpan.FromSeconds(30);
                h.AddHandler<Gated, Numbered>(o => o.Concurrency = 10);
            },
            s => s.AddSingleton(probe).AddSingleton(gate));
        for (int i = 0; i < 10; i++)
        {
            await harness.Bus.PublishAsync(new Numbered(0, i));
        }

        await probe.Reached.Task.WaitAsync(TimeSpan.FromSeconds(20)); // all ten are in flight

        Task stopping = harness.Host.StopAsync(CancellationToken.None);
        Assert.False(stopping.IsCompleted, "stop waits for the in-flight deliveries");
        gate.SetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, harness.Host.LastShutdown!.TotalLeft);
        Assert.Equal(10, probe.Seen.Count);
    }

    [Fact]
    public async Task GenericHost_StartsConsumersAfterStart_StopsCleanly()
    {
        var probe = new Probe { Expected = 100 };
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(probe);
        builder.Services.AddHerald(h => h.AddHandler<Mail, UserCreated>(o => o.Concurrency = 4));
        using IHost host = builder.Build();
        EventBus bus = host.Services.GetRequiredService<EventBus>();

        await host.StartAsync();
        for (int i = 0; i < 100; i++)
        {
            await bus.PublishAsync(TestEvents.User(i));
        }

        HandlerHost handlers = host.Services.GetRequiredService<HandlerHost>();
        await probe.Reached.Task.WaitAsync(TimeSpan.FromSeconds(20));

        HealthReport health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(100, probe.Seen.Count);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal(0, handlers.LastShutdown!.TotalLeft);
        Assert.Equal(0, handlers.LastShutdown.StillRunning);
    }

    [Fact]
    public async Task Health_DegradedOnDeadLettersAndDrops()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<HalfStuck, Numbered>(o => { o.Timeout = TimeSpan.FromMilliseconds(50); o.Retry = Retry.None; o.Capacity = 1; o.Overflow = Overflow.DropNewest; }),
            s => s.AddSingleton(probe));
        var check = harness.Services.GetRequiredService<HeraldHealthCheck>();
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        await harness.Bus.PublishAsync(new Numbered(0, 1)); // times out: a dead letter
        await harness.DeadLettered<Numbered>();
        for (int i = 0; i < 5; i++)
        {
            await harness.Bus.PublishAsync(new Numbered(0, 3)); // the stuck handler plus capacity 1: some are dropped
        }

        HealthCheckResult result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("dead letters grew by 1", result.Description, StringComparison.Ordinal);
        Assert.Contains("dropped", result.Description, StringComparison.Ordinal);
    }
}
