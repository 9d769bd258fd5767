using Microsoft.Extensions.Logging;

namespace Herald.Sqlite;

/// <summary>The SQLite transport's log messages (event ids 3000-3099).</summary>
internal static partial class SqliteLog
{
    [LoggerMessage(3001, LogLevel.Error, "A SQLite commit of {Count} writes failed; each publish in it gets the exception")]
    public static partial void CommitFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(3002, LogLevel.Information, "Consumer group '{Group}' is now read by this process ({Owner}) from position {Checkpoint}")]
    public static partial void LeaseAcquired(ILogger logger, string group, string owner, long checkpoint);

    [LoggerMessage(3003, LogLevel.Warning, "Consumer group '{Group}' was taken over by another process; this one stops reading it")]
    public static partial void LeaseLost(ILogger logger, string group);

    [LoggerMessage(3004, LogLevel.Error, "Stored event at position {Position} cannot be read by '{Consumer}' and was dead-lettered: {Reason}")]
    public static partial void UndecodableDeadLettered(ILogger logger, long position, string consumer, string reason);

    [LoggerMessage(3005, LogLevel.Error, "Consumer group '{Group}' failed to read or checkpoint; retrying")]
    public static partial void GroupFailed(ILogger logger, Exception exception, string group);

    [LoggerMessage(3006, LogLevel.Error, "Moving due delayed events into the log failed; retrying")]
    public static partial void SchedulerFailed(ILogger logger, Exception exception);

    [LoggerMessage(3007, LogLevel.Error, "Outbox relay '{Relay}' could not forward an event; it retries from its checkpoint")]
    public static partial void RelayFailed(ILogger logger, Exception exception, string relay);

    [LoggerMessage(3008, LogLevel.Error, "Deleting settled messages and old inbox entries failed; retrying at the next interval")]
    public static partial void RetentionFailed(ILogger logger, Exception exception);
}
