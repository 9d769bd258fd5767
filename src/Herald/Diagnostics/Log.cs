using Microsoft.Extensions.Logging;

namespace Herald.Diagnostics;

/// <summary>Herald's log messages, with stable event ids (1xxx: bus).</summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Warning, "Subscription '{Subscription}' dropped an event ({Reason}); {Total} dropped for this reason so far. Last: {Topic} {EventId}")]
    public static partial void Dropped(ILogger logger, string subscription, string reason, long total, string topic, string eventId);

    [LoggerMessage(1002, LogLevel.Warning, "Publishing '{Topic}' timed out after {TimeoutMs} ms: subscription '{Subscription}' stayed full")]
    public static partial void PublishTimedOut(ILogger logger, string topic, double timeoutMs, string subscription);

    [LoggerMessage(1003, LogLevel.Warning, "Publishing '{Topic}' was rejected: subscription '{Subscription}' is full (overflow Reject)")]
    public static partial void PublishRejected(ILogger logger, string topic, string subscription);

    [LoggerMessage(1004, LogLevel.Information, "Topic gate '{Pattern}' is now {State}")]
    public static partial void GateChanged(ILogger logger, string pattern, string state);

    [LoggerMessage(1005, LogLevel.Warning, "Publishing '{Topic}' refused by blocked gate '{Pattern}' ({Behavior}); {Total} gated so far")]
    public static partial void Gated(ILogger logger, string topic, string pattern, string behavior, long total);

    [LoggerMessage(1006, LogLevel.Error, "Event {EventId} on '{Topic}', held by gate '{Pattern}', could not be delivered when the gate resumed")]
    public static partial void GateReleaseFailed(ILogger logger, Exception exception, string eventId, string topic, string pattern);

    [LoggerMessage(1007, LogLevel.Warning, "Bus disposed with {Count} events still held by paused gates; they are counted as dropped on dispose")]
    public static partial void HeldOnDispose(ILogger logger, int count);

    [LoggerMessage(1008, LogLevel.Information, "Subscription '{Subscription}' disposed with {Count} events still queued; they are counted as dropped (disposed)")]
    public static partial void DisposedWithQueued(ILogger logger, string subscription, long count);

    [LoggerMessage(1009, LogLevel.Error, "Delayed event {EventId} on '{Topic}' could not be delivered when it fell due")]
    public static partial void DelayedFailed(ILogger logger, Exception exception, string eventId, string topic);

    [LoggerMessage(1010, LogLevel.Warning, "Event {EventId} on '{Topic}' matched no subscription; {Total} unrouted so far")]
    public static partial void Unrouted(ILogger logger, string topic, string eventId, long total);
}
