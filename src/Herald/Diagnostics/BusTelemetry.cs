using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Diagnostics;

/// <summary>
/// One bus's logger, clock and <c>Meter("Herald")</c> instruments. Each bus has its own (no global state); the
/// <c>herald.bus</c> tag tells buses apart when they share a meter listener.
/// </summary>
internal sealed class BusTelemetry : IDisposable
{
    public const string MeterName = "Herald";

    /// <summary>The name of Herald's <see cref="System.Diagnostics.ActivitySource"/> (and its meter).</summary>
    public const string SourceName = "Herald";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _busTag;

    public BusTelemetry(EventBusOptions options)
    {
        Logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Herald.EventBus");
        TimeProvider = options.TimeProvider;
        PublishTimeout = options.PublishTimeout;
        _busTag = new("herald.bus", options.Name);
        if (options.MeterFactory is { } factory)
        {
            _meter = factory.Create(new MeterOptions(MeterName));
        }
        else
        {
            _meter = new Meter(MeterName);
            _ownsMeter = true;
        }

        Published = _meter.CreateCounter<long>("herald.events.published", "{event}", "Events accepted by PublishAsync.");
        Delivered = _meter.CreateCounter<long>("herald.events.delivered", "{event}", "Events handed to a subscription's reader.");
        Dropped = _meter.CreateCounter<long>("herald.events.dropped", "{event}", "Events dropped, by subscription and reason.");
        Unrouted = _meter.CreateCounter<long>("herald.events.unrouted", "{event}", "Accepted events that matched no subscription.");
        Refused = _meter.CreateCounter<long>("herald.publish.refused", "{event}", "Publishes refused: rejected by a full queue, timed out, or blocked by a gate.");
        Handled = _meter.CreateCounter<long>("herald.events.handled", "{event}", "Deliveries a handler completed.");
        Failed = _meter.CreateCounter<long>("herald.events.failed", "{attempt}", "Handler attempts that failed (each retry counts).");
        Retried = _meter.CreateCounter<long>("herald.events.retried", "{attempt}", "Attempts made again after a failure.");
        DeadLettered = _meter.CreateCounter<long>("herald.events.dead_lettered", "{event}", "Deliveries stored as dead letters.");
        Duplicates = _meter.CreateCounter<long>("herald.events.duplicates", "{event}", "Deliveries skipped because the consumer had handled the event id.");
        Duration = _meter.CreateHistogram<double>("messaging.process.duration", "s", "Time from delivery to the handler's outcome, retries included.");
        Source = new ActivitySource(SourceName);
    }

    public ILogger Logger { get; }

    public TimeProvider TimeProvider { get; }

    public TimeSpan PublishTimeout { get; }

    public Counter<long> Published { get; }

    public Counter<long> Delivered { get; }

    public Counter<long> Dropped { get; }

    public Counter<long> Refused { get; }

    public Counter<long> Unrouted { get; }

    public Counter<long> Handled { get; }

    public Counter<long> Failed { get; }

    public Counter<long> Retried { get; }

    public Counter<long> DeadLettered { get; }

    public Counter<long> Duplicates { get; }

    public Histogram<double> Duration { get; }

    public ActivitySource Source { get; }

    /// <summary>The meter, for observable instruments registered by the transport.</summary>
    public Meter Meter => _meter;

    public KeyValuePair<string, object?> BusTag => _busTag;

    public void CountDrop(string subscription, DropReason reason, long count = 1)
    {
        if (Dropped.Enabled)
        {
            Dropped.Add(count, _busTag, new("herald.subscription", subscription), new("herald.drop.reason", ReasonName(reason)));
        }
    }

    public void CountRefused(string topic, string why)
    {
        if (Refused.Enabled)
        {
            Refused.Add(1, _busTag, new("messaging.destination.name", topic), new("herald.refusal", why));
        }
    }

    public static string ReasonName(DropReason reason) => reason switch
    {
        DropReason.Oldest => "oldest",
        DropReason.Newest => "newest",
        DropReason.Disposed => "disposed",
        DropReason.WrongType => "wrong_type",
        _ => "unknown",
    };

    public void Dispose()
    {
        Source.Dispose();
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
