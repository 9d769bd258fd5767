using Microsoft.Extensions.Logging;

namespace Herald.RabbitMQ;

/// <summary>The RabbitMQ transport's log messages (event ids 4000-4099).</summary>
internal static partial class RabbitMqLog
{
    [LoggerMessage(4001, LogLevel.Error, "A poison message for '{Consumer}' on '{Topic}' could not be dead-lettered (the broker did not confirm the dead letter); it goes back to the queue to be tried again")]
    public static partial void PoisonNotDeadLettered(ILogger logger, Exception exception, string consumer, string topic);

    [LoggerMessage(4002, LogLevel.Error, "A poison message for '{Consumer}' on '{Topic}' was dead-lettered: {Reason}")]
    public static partial void PoisonDeadLettered(ILogger logger, string consumer, string topic, string reason);
}
