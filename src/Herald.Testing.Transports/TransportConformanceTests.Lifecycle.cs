using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Herald.Testing.Transports;

/// <summary>Lifecycle: restarts, stopping, overflow, unrouted events, depth, tracing and what a harness leaves behind.</summary>
public abstract partial class TransportConformanceTests
{
    /// <summary>An event published while its group has no running consumer is delivered when one starts.</summary>
    [SkippableFact]
    public async Task Restart_EventsPublishedWhileTheConsumerIsDown_AreDeliveredWhenItStarts()
    {
        Skip.IfNot(Features.Durable, "the transport does not keep events beyond a process");
        await (await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first"))).DisposeAsync(); // the group exists
        await using (HeraldTestHarness publisher = await StartAsync(_ => { }))
        {
            await PublishAsync(publisher, [1, 2, 3]);
        }

        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first"));

        await HandledAsync(harness, "first", 3);
        Assert.Equal([1, 2, 3], Handled(harness, "first"));
    }

    /// <summary>A delivery a stop cut short (its handler cancelled) is delivered again after a restart, and its effect is applied once.</summary>
    [SkippableFact]
    public async Task Restart_ADeliveryCutShortByAStop_IsDeliveredAgain_AndAppliedOnce()
    {
        Skip.IfNot(Features.Durable, "the transport does not keep events beyond a process");
        Script.Hold(1);
        await using (HeraldTestHarness first = await StartAsync(h =>
        {
            h.Host.ShutdownTimeout = TimeSpan.FromMilliseconds(100);
            h.AddHandler<FirstHandler, Placed>(o => o.Name = "first");
        }))
        {
            await PublishAsync(first, [1]);
            await Script.Started(1).WaitAsync(Features.Patience);
        } // stopped while the handler waits: it is cancelled, and the delivery released

        Script.Release(1);
        await using HeraldTestHarness second = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first"));

        await HandledAsync(second, "first", 1);
        Assert.Equal(1, Script.Effects[("first", 1)]);
    }

    /// <summary>An event id a consumer handled before a restart is skipped when it comes again (a redelivery, a republish): the inbox outlives the process.</summary>
    [SkippableFact]
    public async Task Restart_AnEventHandledBefore_IsNotAppliedAgain()
    {
        Skip.IfNot(Features.DurableInbox, "the inbox does not outlive the process");
        var envelope = new Envelope("conformance.placed", new Placed(1, "k"), TimeProvider.System.GetUtcNow()) { Subject = "k" };
        await using (HeraldTestHarness first = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first")))
        {
            await first.Bus.PublishAsync(envelope);
            await HandledAsync(first, "first", 1);
        }

        await using HeraldTestHarness second = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first"));
        await second.Bus.PublishAsync(envelope); // the same id again, as a broker redelivery after a lost acknowledgement would bring it
        if (Features.DeduplicatesPublishes)
        {
            // The transport stores the copy once: it never comes. The next event does, and nothing came before it.
            await PublishAsync(second, [2]);
            await second.DeliveriesAsync(d => d.Handler == "first", 1, Features.Patience);
            Assert.Equal(2, Assert.IsType<Placed>(Assert.Single(second.Deliveries).Envelope.Data).Id);
            Assert.Equal(1, Script.Effects[("first", 1)]);
            return;
        }

        await second.DeliveriesAsync(d => d.Handler == "first", 1, Features.Patience);
        Assert.Equal(DeliveryOutcome.Duplicate, Assert.Single(second.Deliveries).Outcome);
        Assert.Equal(1, Script.Effects[("first", 1)]);
    }

    /// <summary>A delayed event is kept by the transport: it is delivered after a restart.</summary>
    [SkippableFact]
    public async Task Delay_SurvivesARestart()
    {
        Skip.IfNot(Features.DurableDelay, "the transport does not keep delayed events beyond a process");
        await using (HeraldTestHarness first = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first")))
        {
            await first.Bus.PublishAsync(new Placed(1, "k"), new PublishOptions { Delay = TimeSpan.FromMilliseconds(500) });
        }

        await using HeraldTestHarness second = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first"));
        await HandledAsync(second, "first", 1);
    }

    /// <summary>Every overflow policy is either honoured or refused when the consumer is made, naming it: never ignored.</summary>
    /// <param name="overflow">The policy asked for.</param>
    [Theory]
    [InlineData(Overflow.Wait)]
    [InlineData(Overflow.DropOldest)]
    [InlineData(Overflow.DropNewest)]
    [InlineData(Overflow.Reject)]
    public async Task Overflow_IsHonouredOrRefusedAtStart(Overflow overflow)
    {
        Task<HeraldTestHarness> StartingAsync() => StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => { o.Name = "first"; o.Overflow = overflow; o.Capacity = 2; }));
        if (Features.Overflows.Contains(overflow))
        {
            await using HeraldTestHarness harness = await StartingAsync();
            await PublishAsync(harness, [1]);
            await HandledAsync(harness, "first", 1);
        }
        else
        {
            NotSupportedException refused = await Assert.ThrowsAsync<NotSupportedException>(StartingAsync);
            Assert.Contains($"Overflow.{overflow}", refused.Message, StringComparison.Ordinal);
            Assert.Contains("first", refused.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>An event nobody subscribes to is accepted and counted, logged and metered as unrouted (never discarded unseen).</summary>
    [Fact]
    public async Task Unrouted_IsCountedLoggedAndMetered()
    {
        var logs = new CapturedLogs();
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first"), logs);
        using var unrouted = new BusMeter(harness.Bus.Name, "herald.events.unrouted");

        await harness.Bus.PublishAsync(new Paid(1)); // nobody handles conformance.paid

        Assert.Equal(1, harness.Bus.Stats.Unrouted);
        Assert.Equal(1, unrouted.Total);
        Assert.Contains(logs.Lines, l => l.Message.Contains("conformance.paid", StringComparison.Ordinal) && l.Message.Contains("matched no subscription", StringComparison.Ordinal));
    }

    /// <summary>Stopping with events still queued ends when the in-flight handler ends, well within the deadline, with nothing still running.</summary>
    [Fact]
    public async Task Stop_WithEventsQueued_EndsWhenTheInFlightHandlerEnds()
    {
        Script.Hold(1);
        await using HeraldTestHarness harness = await StartAsync(h =>
        {
            h.Host.ShutdownTimeout = TimeSpan.FromSeconds(20);
            h.AddHandler<FirstHandler, Placed>(o => o.Name = "first");
        });
        await PublishAsync(harness, Enumerable.Range(1, 10));
        await Script.Started(1).WaitAsync(Features.Patience);

        var stopwatch = Stopwatch.StartNew();
        Task stopping = harness.Host.StopAsync(CancellationToken.None);
        Script.Release(1);
        await stopping.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"stop took {stopwatch.Elapsed.TotalSeconds:0.0} s: it waited for the deadline, not for the handler");
        Assert.Equal(0, harness.Host.LastShutdown!.StillRunning);
        Assert.Equal(1, Script.Effects[("first", 1)]);
    }

    /// <summary>
    /// What waits for a consumer shows in the depth gauge and makes the health check degraded: beyond its local room too
    /// (in the transport's log or broker queue), where the publish does not wait for consumers.
    /// </summary>
    [Fact]
    public async Task Depth_WhatWaitsShowsInTheGaugeAndTheHealthCheck()
    {
        Script.Hold(1);
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => { o.Name = "first"; o.Capacity = 4; o.Timeout = TimeSpan.FromMinutes(5); }));
        Task published = PublishAsync(harness, Enumerable.Range(1, 40)); // in memory the publisher waits for room: not awaited yet
        await Script.Started(1).WaitAsync(Features.Patience);
        long expected = Features.PublishWaitsForConsumers ? 4 : 30; // 39 wait behind the held one; in memory only 4 fit

        using var gauge = new BusMeter(harness.Bus.Name, "herald.queue.depth");
        long seen = await Eventually.HoldsAsync(
            () => Task.FromResult(gauge.Read("first")),
            depth => depth >= expected,
            Features.Patience,
            depth => $"herald.queue.depth of 'first' = {depth} with 39 events waiting behind a held handler (local room 4)");
        HealthCheckResult health = await harness.Services.GetRequiredService<HeraldHealthCheck>().CheckHealthAsync(new HealthCheckContext());
        Script.Release(1);
        await published.WaitAsync(Features.Patience);

        Assert.True(seen <= 39, $"depth {seen} counts more than the 39 events waiting");
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("'first'", health.Description, StringComparison.Ordinal);
    }

    /// <summary>One trace runs from the publish to the handler, through the transport.</summary>
    [Fact]
    public async Task Trace_RunsFromThePublishToTheHandler()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Herald",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first"));

        await PublishAsync(harness, [1]);
        await HandledAsync(harness, "first", 1);
        string id = harness.Deliveries.Single(d => d.Handler == "first").Envelope.Id;

        Activity? send = await Eventually.HoldsAsync(
            () => Task.FromResult(stopped.FirstOrDefault(a => a.OperationName == "send conformance.placed" && a.GetTagItem("messaging.message.id") as string == id)),
            a => a is not null,
            Features.Patience,
            _ => "no send activity for the event");
        Activity? process = await Eventually.HoldsAsync(
            () => Task.FromResult(stopped.FirstOrDefault(a => a.OperationName == "process conformance.placed" && a.TraceId == send!.TraceId)),
            a => a is not null,
            Features.Patience,
            _ => "no process activity in the publish's trace");
        Assert.Equal(send!.SpanId, process!.ParentSpanId);
    }

    /// <summary>A test harness leaves no consumer group, queue or binding of its own behind on the transport.</summary>
    [SkippableFact]
    public async Task Harness_LeavesNoConsumerGroupOfItsOwnBehind()
    {
        await using (HeraldTestHarness harness = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first")))
        {
            await PublishAsync(harness, [1]);
            await HandledAsync(harness, "first", 1);
        }

        IReadOnlyCollection<string>? groups = await Fixture.ConsumerGroupsAsync(CancellationToken.None);
        Skip.If(groups is null, "the transport keeps no consumer groups beyond a process");
        Assert.Equal(["first"], groups);
    }
}
