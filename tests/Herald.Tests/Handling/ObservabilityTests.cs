using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Handling;

[Collection(ListenersCollection.Name)]
public sealed class ObservabilityTests
{
    /// <summary>Fails the first attempt of odd ids, and every attempt of ids above 100.</summary>
    public sealed class Picky : IEventHandler<UserCreated>
    {
        private readonly ConcurrentDictionary<long, int> _attempts = new();

        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            int attempt = _attempts.AddOrUpdate(context.Event.Id, 1, (_, a) => a + 1);
            return context.Event.Id > 100 || (context.Event.Id % 2 == 1 && attempt == 1)
                ? throw new InvalidOperationException("no")
                : Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Tracing_PublishAndDeliver_AreLinkedByTraceId()
    {
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Herald",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var harness = await HeraldTestHarness.StartAsync(h => h.AddHandler<Picky, UserCreated>(), s => s.AddSingleton<Picky>());

        await harness.Bus.PublishAsync(TestEvents.User(2));
        EventContext<UserCreated> handled = await harness.Consumed<UserCreated>();

        Activity send = Assert.Single(activities, a => a.OperationName == "send user.created" && a.GetTagItem("messaging.message.id") as string == handled.Id);
        Assert.Equal(ActivityKind.Producer, send.Kind);
        Assert.Equal(send.Id, handled.Envelope.TraceParent);
        // The harness records a delivery in the outermost step, after the consumer activity has stopped.
        Activity process = Assert.Single(activities, a => a.OperationName == "process user.created" && a.TraceId == send.TraceId);
        Assert.Equal(ActivityKind.Consumer, process.Kind);
        Assert.Equal(send.SpanId, process.ParentSpanId);
        Assert.Equal("herald", process.GetTagItem("messaging.system"));
        Assert.Equal("Picky", process.GetTagItem("messaging.consumer.group.name"));
        Assert.Equal("Handled", process.GetTagItem("herald.outcome"));
    }

    [Fact]
    public async Task Metrics_CountersMoveByTheRightAmounts()
    {
        var totals = new ConcurrentDictionary<string, double>();
        string? busName = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Herald")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "herald.bus" && Equals(tag.Value, busName))
                {
                    totals.AddOrUpdate(instrument.Name, value, (_, v) => v + value);
                }
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => OnMeasurement(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, _, t, _) => OnMeasurement(i, 1, t)); // the histogram: count its records
        listener.Start();
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<Picky, UserCreated>(o => o.Retry = Retry.Immediate(2)),
            s => s.AddSingleton<Picky>());
        busName = harness.Bus.Name;

        foreach (long id in new long[] { 2, 4, 6, 1, 3, 101, 102 })
        {
            await harness.Bus.PublishAsync(TestEvents.User(id));
        }

        await harness.DeliveriesAsync(d => d.Handler == "Picky", 7);

        Assert.Equal(7, totals["herald.events.published"]);
        Assert.Equal(5, totals["herald.events.handled"]);      // 2, 4, 6 at once; 1, 3 on the retry
        Assert.Equal(2, totals["herald.events.dead_lettered"]); // 101, 102 after two attempts
        Assert.Equal(4, totals["herald.events.retried"]);       // 1, 3, 101, 102 tried twice
        Assert.Equal(6, totals["herald.events.failed"]);        // 1, 3 once; 101, 102 twice
        Assert.Equal(7, totals["messaging.process.duration"]);  // one duration per delivery
        Assert.False(totals.ContainsKey("herald.events.duplicates"));
    }

    [Fact]
    public async Task Gauges_ReportQueueDepthAndOldestAge()
    {
        var clock = new SignallingTimeProvider();
        await using var bus = new EventBus(new EventBusOptions { Name = $"gauges-{Guid.NewGuid():N}", TimeProvider = clock });
        await using var sub = bus.Subscribe<UserCreated>(new SubscriptionOptions { Name = "email" });
        await bus.PublishAsync(TestEvents.User(1));
        clock.Advance(TimeSpan.FromSeconds(3));
        await bus.PublishAsync(TestEvents.User(2));
        clock.Advance(TimeSpan.FromSeconds(2));

        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Herald" && instrument.Name.StartsWith("herald.queue.", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            bool ours = false;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                ours |= tag.Key == "herald.bus" && Equals(tag.Value, bus.Name);
            }

            if (ours)
            {
                seen[i.Name] = v;
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Equal(2, seen["herald.queue.depth"]);
        Assert.Equal(5, seen["herald.queue.oldest_age"]);
    }
}
