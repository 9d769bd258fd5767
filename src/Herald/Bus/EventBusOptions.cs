using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Herald;

/// <summary>Settings of one <see cref="EventBus"/>. Validated when the bus is created.</summary>
public sealed class EventBusOptions
{
    /// <summary>The bus name, used in logs, metrics (<c>herald.bus</c>) and the default <see cref="Source"/>. Default <c>herald</c>.</summary>
    public string Name { get; set; } = "herald";

    /// <summary>The CloudEvents <c>source</c> written into every envelope. Default <c>urn:herald:{Name}</c>.</summary>
    public string? Source { get; set; }

    /// <summary>
    /// How long a publish may wait for room in a full <see cref="Overflow.Wait"/> subscription (or a full paused gate)
    /// before it throws a <see cref="PublishTimeoutException"/>. Default 10 seconds; <see cref="Timeout.InfiniteTimeSpan"/> is not allowed.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many events a paused topic gate holds before publishers to it wait. Default 10,000.</summary>
    public int PausedGateCapacity { get; set; } = 10_000;

    /// <summary>
    /// How many delayed events (<see cref="PublishOptions.Delay"/>, <see cref="PublishOptions.DeliverAt"/>) the bus
    /// holds in memory at once, on a transport that does not store them itself (in memory, RabbitMQ); a delayed publish
    /// beyond it throws a <see cref="PublishRejectedException"/> and nothing is held. Default 100,000.
    /// </summary>
    public int DelayedCapacity { get; set; } = 100_000;

    /// <summary>The clock for envelope times, ids and timeouts. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the bus logs (drops, timeouts, gates). Default: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Creates the bus's <c>Meter("Herald")</c>; when null the bus creates (and disposes) its own meter.</summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>
    /// Makes the bus's transport when the bus is created; null (the default) for the in-memory transport. Transport
    /// packages set it (<c>UseSqlite</c>, <c>UseRabbitMQ</c>); set it yourself to run on a transport of your own. The bus
    /// owns (and disposes) what it returns. See docs/transports.md.
    /// </summary>
    public Func<Transport.TransportContext, Transport.ITransport>? TransportFactory { get; set; }

    /// <summary>Throws an exception naming the setting when a value is out of range.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("EventBusOptions.Name must not be empty.", nameof(Name));
        }

        if (PublishTimeout <= TimeSpan.Zero || PublishTimeout == Timeout.InfiniteTimeSpan || PublishTimeout > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(
                nameof(PublishTimeout), PublishTimeout, "EventBusOptions.PublishTimeout must be positive and finite (at most one day): a publish never waits forever.");
        }

        if (PausedGateCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(PausedGateCapacity), PausedGateCapacity, "EventBusOptions.PausedGateCapacity must be at least 1.");
        }

        if (DelayedCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DelayedCapacity), DelayedCapacity, "EventBusOptions.DelayedCapacity must be at least 1.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}
