using Herald.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Herald.Handling.Middleware;

/// <summary>
/// A delivery that fails for good (last attempt, not retryable, or poison) goes to the <see cref="IDeadLetterStore"/>
/// with its reason, exception and attempts, and the consumer carries on with the next event.
/// </summary>
internal sealed class DeadLetterMiddleware(IDeadLetterStore store, ILoggerFactory loggers) : IDeliveryMiddleware
{
    private readonly ILogger _logger = loggers.CreateLogger("Herald.Handling");

    public ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next)
    {
        ValueTask inner = next(context);
        return inner.IsCompletedSuccessfully ? inner : DeadLetterOnFailureAsync(inner, context);
    }

    private async ValueTask DeadLetterOnFailureAsync(ValueTask inner, DeliveryContext context)
    {
        try
        {
            await inner.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.Stopping.IsCancellationRequested)
        {
            context.Exception = ex;
            string reason = ex is PoisonEventException or EventDecodingException ? "poison" : context.FailureReason ?? "failed";
            var deadLetter = new DeadLetter(
                UuidV7.New(context.TimeProvider.GetUtcNow()).ToString(),
                context.Envelope,
                context.Handler.Name,
                reason,
                ex.GetType().FullName,
                ex.Message,
                context.Attempt, // attempts in all: a stored retry carries its number, so the count spans restarts
                context.TimeProvider.GetUtcNow());

            // Stored even when the host is stopping: a dead letter must not be lost to a shutdown.
            await store.AddAsync(deadLetter, CancellationToken.None).ConfigureAwait(false);
            context.Outcome = DeliveryOutcome.DeadLettered;
            HandlingLog.DeadLettered(_logger, ex, context.Handler.Name, context.Envelope.Type, context.Envelope.Id, reason, deadLetter.Attempts, deadLetter.Id);
        }
    }
}
