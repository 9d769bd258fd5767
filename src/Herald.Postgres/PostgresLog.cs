using Microsoft.Extensions.Logging;

namespace Herald.Postgres;

/// <summary>The PostgreSQL transport's log messages (event ids 4200-4299).</summary>
internal static partial class PostgresLog
{
    [LoggerMessage(4201, LogLevel.Warning, "PostgreSQL: listening on '{Channel}' failed; it starts again in a second (members poll meanwhile)")]
    public static partial void ListenFailed(ILogger logger, Exception exception, string channel);

    [LoggerMessage(4202, LogLevel.Warning, "PostgreSQL consumer {Consumer}: claiming messages failed; it tries again in {Delay}")]
    public static partial void ClaimFailed(ILogger logger, Exception exception, string consumer, TimeSpan delay);

    [LoggerMessage(4203, LogLevel.Warning, "PostgreSQL consumer {Consumer}: message {Seq} on '{Topic}' is poison and was dead-lettered: {Reason}")]
    public static partial void PoisonDeadLettered(ILogger logger, string consumer, long seq, string topic, string reason);

    [LoggerMessage(4204, LogLevel.Warning, "PostgreSQL consumer {Consumer}: settling {Count} message(s) failed; they come again when their claim runs out")]
    public static partial void SettleFailed(ILogger logger, Exception exception, string consumer, int count);
}
