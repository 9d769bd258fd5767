using Microsoft.Extensions.Logging;

namespace Herald.Diagnostics;

/// <summary>Log messages of the handler pipeline and host, with stable event ids (2xxx).</summary>
internal static partial class HandlingLog
{
    [LoggerMessage(2001, LogLevel.Debug, "Handler '{Handler}' handled {Topic} {EventId} (attempt {Attempt})")]
    public static partial void Handled(ILogger logger, string handler, string topic, string eventId, int attempt);

    [LoggerMessage(2002, LogLevel.Information, "Handler '{Handler}' skipped {Topic} {EventId}: already handled (duplicate)")]
    public static partial void Duplicate(ILogger logger, string handler, string topic, string eventId);

    [LoggerMessage(2003, LogLevel.Warning, "Handler '{Handler}' failed {Topic} {EventId} on attempt {Attempt}; retrying in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, Exception exception, string handler, string topic, string eventId, int attempt, double delayMs);

    [LoggerMessage(2004, LogLevel.Error, "Handler '{Handler}' dead-lettered {Topic} {EventId} ({Reason}) after {Attempts} attempt(s); dead letter {DeadLetterId}")]
    public static partial void DeadLettered(ILogger logger, Exception exception, string handler, string topic, string eventId, string reason, int attempts, string deadLetterId);

    [LoggerMessage(2005, LogLevel.Error, "Handler '{Handler}' failed {Topic} {EventId} on attempt {Attempt} and the failure could not be dead-lettered; the consumer carries on")]
    public static partial void Isolated(ILogger logger, Exception exception, string handler, string topic, string eventId, int attempt);

    [LoggerMessage(2006, LogLevel.Information, "Handler '{Handler}': {Topic} {EventId} cancelled by shutdown on attempt {Attempt}")]
    public static partial void Cancelled(ILogger logger, string handler, string topic, string eventId, int attempt);

    [LoggerMessage(2007, LogLevel.Critical, "Consumer loop of handler '{Handler}' died; the consumer is unhealthy")]
    public static partial void LoopDied(ILogger logger, Exception exception, string handler);

    [LoggerMessage(2008, LogLevel.Warning, "Shutdown left {Left} event(s) of handler '{Handler}' undelivered: {Cancelled} cancelled in flight, {Queued} still queued")]
    public static partial void LeftOnShutdown(ILogger logger, string handler, long left, long cancelled, int queued);

    [LoggerMessage(2009, LogLevel.Information, "Herald host stopped: {Consumers} consumer(s) drained in {ElapsedMs} ms, {Left} event(s) left undelivered")]
    public static partial void Stopped(ILogger logger, int consumers, double elapsedMs, long left);

    [LoggerMessage(2010, LogLevel.Error, "Handler '{Handler}' ignored cancellation: {Running} delivery loop(s) still running after the shutdown grace period")]
    public static partial void IgnoredCancellation(ILogger logger, string handler, int running);

    [LoggerMessage(2011, LogLevel.Error, "Recurring publish of '{Topic}' failed; the schedule carries on")]
    public static partial void RecurringFailed(ILogger logger, Exception exception, string topic);

    [LoggerMessage(2012, LogLevel.Error, "Projection '{Projection}' failed; it restarts from its last checkpoint")]
    public static partial void ProjectionFailed(ILogger logger, Exception exception, string projection);
}
