using Herald.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Herald.Handling.Middleware;

/// <summary>
/// Nothing thrown inside escapes: a failure that got this far (the dead-letter store itself failed, or a step was
/// removed) is logged and counted as <see cref="DeliveryOutcome.Failed"/>; a cancellation caused by shutdown is
/// <see cref="DeliveryOutcome.Cancelled"/> (logged at information). The consumer loop and other subscriptions never see it.
/// </summary>
internal sealed class IsolationMiddleware(ILoggerFactory loggers) : IDeliveryMiddleware
{
    private readonly ILogger _logger = loggers.CreateLogger("Herald.Handling");

    public ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next)
    {
        ValueTask inner = next(context);
        return inner.IsCompletedSuccessfully ? inner : IsolateAsync(inner, context);
    }

    private async ValueTask IsolateAsync(ValueTask inner, DeliveryContext context)
    {
        try
        {
            await inner.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.Stopping.IsCancellationRequested)
        {
            context.Outcome = DeliveryOutcome.Cancelled;
            HandlingLog.Cancelled(_logger, context.Handler.Name, context.Envelope.Type, context.Envelope.Id, context.Attempt);
        }
        catch (Exception ex)
        {
            context.Exception = ex;
            context.Outcome = DeliveryOutcome.Failed;
            HandlingLog.Isolated(_logger, ex, context.Handler.Name, context.Envelope.Type, context.Envelope.Id, context.Attempt);
        }
    }
}
