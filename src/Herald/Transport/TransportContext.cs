using System.Numerics;
using Herald.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Herald.Transport;

/// <summary>
/// What a bus gives the transport it makes (<see cref="EventBusOptions.TransportFactory"/>): its name, logger, clock and
/// publish timeout, and the counters a transport reports into, so the bus's stats, metrics and logs cover every
/// transport alike.
/// </summary>
public sealed class TransportContext
{
    private long _unrouted;

    internal TransportContext(string busName, BusTelemetry telemetry)
    {
        BusName = busName;
        Telemetry = telemetry;
    }

    /// <summary>The bus's name (<see cref="EventBusOptions.Name"/>).</summary>
    public string BusName { get; }

    /// <summary>Where the transport logs (the bus's logger).</summary>
    public ILogger Logger => Telemetry.Logger;

    /// <summary>The bus's clock: use it for every time and timeout.</summary>
    public TimeProvider TimeProvider => Telemetry.TimeProvider;

    /// <summary>How long a publish may wait (for room, a connection, a confirm) before it fails (<see cref="EventBusOptions.PublishTimeout"/>).</summary>
    public TimeSpan PublishTimeout => Telemetry.PublishTimeout;

    /// <summary>Accepted envelopes that matched no consumer, as reported through <see cref="ReportUnrouted"/>.</summary>
    public long Unrouted => Interlocked.Read(ref _unrouted);

    internal BusTelemetry Telemetry { get; }

    /// <summary>
    /// Reports an accepted envelope that matched no consumer (nobody subscribes to its topic): counted in
    /// <see cref="EventBusStats.Unrouted"/>, metered as <c>herald.events.unrouted</c> and logged (at the 1st, 2nd, 4th,
    /// 8th... so a storm cannot flood the log). A transport that refuses such publishes instead throws, and documents it.
    /// </summary>
    /// <param name="envelope">The envelope nobody receives.</param>
    public void ReportUnrouted(Envelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        long total = Interlocked.Increment(ref _unrouted);
        if (Telemetry.Unrouted.Enabled)
        {
            Telemetry.Unrouted.Add(1, Telemetry.BusTag, new("messaging.destination.name", envelope.Type));
        }

        if (BitOperations.IsPow2(total))
        {
            Log.Unrouted(Telemetry.Logger, envelope.Type, envelope.Id, total);
        }
    }
}
