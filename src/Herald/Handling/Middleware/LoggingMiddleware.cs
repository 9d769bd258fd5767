using Herald.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Herald.Handling.Middleware;

/// <summary>
/// At debug level, puts the event id, topic, handler and attempt in a log scope around the delivery (so every log line
/// inside carries them) and logs each handled delivery. Below debug it costs nothing: no scope, no allocation, no
/// state machine, a level check per delivery (levels can change while the application runs). Everything else is
/// logged where it is decided: duplicates by the idempotency step, cancellations and escaped failures by isolation,
/// retries and dead letters by theirs.
/// </summary>
internal sealed class LoggingMiddleware(ILoggerFactory loggers) : IDeliveryMiddleware
{
    private readonly ILogger _logger = loggers.CreateLogger("Herald.Handling");

    public ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next) =>
        _logger.IsEnabled(LogLevel.Debug) ? LogAsync(context, next) : next(context);

    private async ValueTask LogAsync(DeliveryContext context, DeliveryDelegate next)
    {
        using IDisposable? scope = _logger.BeginScope(new DeliveryScope(context));
        await next(context).ConfigureAwait(false);
        if (context.Outcome == DeliveryOutcome.Handled)
        {
            HandlingLog.Handled(_logger, context.Handler.Name, context.Envelope.Type, context.Envelope.Id, context.Attempt);
        }
    }

    /// <summary>The scope's state: structured values for providers that read them, a line for those that do not.</summary>
    private sealed class DeliveryScope(DeliveryContext context) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 4;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("EventId", context.Envelope.Id),
            1 => new("Topic", context.Envelope.Type),
            2 => new("Handler", context.Handler.Name),
            _ => new("Attempt", context.Attempt),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (int i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"event {context.Envelope.Id} {context.Envelope.Type} -> {context.Handler.Name} attempt {context.Attempt}";
    }
}
