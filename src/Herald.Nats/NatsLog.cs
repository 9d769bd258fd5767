using Microsoft.Extensions.Logging;

namespace Herald.Nats;

/// <summary>The NATS transport's log messages (event ids 4100-4199).</summary>
internal static partial class NatsLog
{
    [LoggerMessage(4101, LogLevel.Warning, "NATS consumer {Consumer}: a message on '{Subject}' is poison and was dead-lettered: {Reason}")]
    public static partial void PoisonDeadLettered(ILogger logger, string consumer, string subject, string reason);

    [LoggerMessage(4102, LogLevel.Error, "NATS consumer {Consumer}: a poison message on '{Subject}' could not be dead-lettered; it is delivered again later")]
    public static partial void PoisonNotDeadLettered(ILogger logger, Exception exception, string consumer, string subject);

    [LoggerMessage(4103, LogLevel.Warning, "NATS consumer {Consumer}: consuming '{Filter}' failed; it starts again in {Delay}")]
    public static partial void ConsumeFailed(ILogger logger, Exception exception, string consumer, string filter, TimeSpan delay);

    [LoggerMessage(4104, LogLevel.Warning, "NATS connection to {Endpoint} lost: {Reason}; reconnecting")]
    public static partial void Disconnected(ILogger logger, string endpoint, string reason);

    [LoggerMessage(4105, LogLevel.Information, "NATS connection to {Endpoint} open")]
    public static partial void Connected(ILogger logger, string endpoint);

    [LoggerMessage(4106, LogLevel.Warning, "NATS consumer {Consumer}: its reads did not end within {Timeout} of the stop; it stops without them (what it held is delivered again after AckWait)")]
    public static partial void StopTimedOut(ILogger logger, string consumer, TimeSpan timeout);

    [LoggerMessage(4107, LogLevel.Information, "NATS consumer {Consumer} is the active member of ordered group '{Group}' (lease {Bucket}/{Key})")]
    public static partial void Active(ILogger logger, string consumer, string group, string bucket, string key);

    [LoggerMessage(4108, LogLevel.Information, "NATS consumer {Consumer} waits as a standby of ordered group '{Group}': another member holds the lease {Bucket}/{Key}")]
    public static partial void Standby(ILogger logger, string consumer, string group, string bucket, string key);

    [LoggerMessage(4109, LogLevel.Warning, "NATS consumer {Consumer} lost the lease of ordered group '{Group}' ({Reason}); it stops taking deliveries, puts back what it holds and waits as a standby")]
    public static partial void LeaseLost(ILogger logger, string consumer, string group, string reason);

    [LoggerMessage(4110, LogLevel.Information, "NATS consumer {Consumer} stops without giving up the lease of ordered group '{Group}': the server sent {Unseen} message(s) of {Durable} as it stopped reading; a standby takes over when the lease runs out, those first")]
    public static partial void LeaseKept(ILogger logger, string consumer, string group, string durable, ulong unseen);

    [LoggerMessage(4111, LogLevel.Information, "NATS consumer {Consumer} took over ordered group '{Group}' from a member whose lease ran out, with {Pending} delivery(ies) not acknowledged: it reads after {AckWait}, when those are due again and come first")]
    public static partial void WaitingForDeadHolder(ILogger logger, string consumer, string group, long pending, TimeSpan ackWait);
}
