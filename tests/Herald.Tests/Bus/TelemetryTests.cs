using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Herald.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Herald.Tests.Bus;

[Collection(Herald.Tests.Handling.ListenersCollection.Name)]
public sealed class TelemetryTests
{
    [Fact]
    public async Task Drops_AreMeteredByReason_AndLogged()
    {
        string busName = $"metered-{Guid.NewGuid():N}";
        var measurements = new ConcurrentBag<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
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
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var dict = new Dictionary<string, object?>();
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                dict[tag.Key] = tag.Value;
            }

            if (Equals(dict.GetValueOrDefault("herald.bus"), busName))
            {
                measurements.Add((instrument.Name, value, dict));
            }
        });
        listener.Start();
        var logs = new ListLoggerProvider();

        await using var bus = new EventBus(new EventBusOptions { Name = busName, LoggerFactory = logs });
        await using var sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Name = "risk", Capacity = 10, Overflow = Overflow.DropOldest });
        for (int i = 0; i < 100; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        Assert.Equal(90, measurements.Where(m => m.Instrument == "herald.events.dropped").Sum(m => m.Value));
        Assert.All(measurements.Where(m => m.Instrument == "herald.events.dropped"), m =>
        {
            Assert.Equal("risk", m.Tags["herald.subscription"]);
            Assert.Equal("oldest", m.Tags["herald.drop.reason"]);
        });
        Assert.Equal(100, measurements.Where(m => m.Instrument == "herald.events.published").Sum(m => m.Value));

        // Every drop is counted; the log reports totals at powers of two so a storm cannot flood it.
        List<string> dropLines = [.. logs.Lines.Where(l => l.Id.Id == 1001).Select(l => l.Message)];
        Assert.Equal(7, dropLines.Count); // 1, 2, 4, 8, 16, 32, 64
        Assert.Contains("Subscription 'risk' dropped an event (oldest); 64 dropped", dropLines[^1], StringComparison.Ordinal);
        Assert.All(logs.Lines.Where(l => l.Id.Id == 1001), l => Assert.Equal(LogLevel.Warning, l.Level));
    }

    [Fact]
    public async Task Timeout_IsLoggedNamingSubscription()
    {
        var logs = new ListLoggerProvider();
        await using var bus = new EventBus(new EventBusOptions { LoggerFactory = logs, PublishTimeout = TimeSpan.FromMilliseconds(100) });
        await using var sub = bus.Subscribe<Numbered>(new SubscriptionOptions { Name = "slow", Capacity = 1 });
        await bus.PublishAsync(new Numbered(0, 0));

        await Assert.ThrowsAsync<PublishTimeoutException>(async () => await bus.PublishAsync(new Numbered(0, 1)));

        Assert.Contains(logs.Lines, l => l.Id.Id == 1002 && l.Message.Contains("'slow'", StringComparison.Ordinal));
    }
}
