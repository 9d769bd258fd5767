namespace Herald.Handling.Middleware;

/// <summary>
/// Gives each attempt a token that fires at the handler's <see cref="HandlerOptions.Timeout"/> (on the injected
/// <see cref="TimeProvider"/>) as well as at shutdown. A handler cancelled by its timeout fails the attempt with a
/// <see cref="HandlerTimeoutException"/>, which is retryable. Cancellation is cooperative: a handler that ignores its
/// token keeps running.
/// </summary>
internal sealed class TimeoutMiddleware : IDeliveryMiddleware
{
    public async ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next)
    {
        TimeSpan timeout = context.Handler.Options.Timeout;
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        CancellationToken outer = context.CancellationToken;
        using var timer = new CancellationTokenSource(timeout, context.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(outer, timer.Token);
        context.CancellationToken = linked.Token;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (timer.IsCancellationRequested && !outer.IsCancellationRequested)
        {
            throw new HandlerTimeoutException(
                $"Handler '{context.Handler.Name}' did not finish event {context.Envelope.Id} ({context.Envelope.Type}) within {timeout.TotalMilliseconds:0} ms (attempt {context.Attempt}).",
                ex);
        }
        finally
        {
            context.CancellationToken = outer;
        }
    }
}
