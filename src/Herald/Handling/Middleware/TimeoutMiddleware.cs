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
        if (context.Timeouts is { } pool && outer == context.Stopping)
        {
            await PooledAsync(context, next, pool, timeout).ConfigureAwait(false);
            return;
        }

        using var timer = new CancellationTokenSource(timeout, context.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(outer, timer.Token);
        context.CancellationToken = linked.Token;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (timer.IsCancellationRequested && !outer.IsCancellationRequested)
        {
            throw TimedOut(context, timeout, ex);
        }
        finally
        {
            context.CancellationToken = outer;
        }
    }

    /// <summary>The common case (the token not narrowed by an earlier step): the loop's watchdog and reusable source.</summary>
    private static async ValueTask PooledAsync(DeliveryContext context, DeliveryDelegate next, Handling.AttemptTimeouts pool, TimeSpan timeout)
    {
        CancellationToken stopping = context.Stopping;
        CancellationTokenSource source = pool.Rent(timeout);
        context.CancellationToken = source.Token;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (source.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            throw TimedOut(context, timeout, ex);
        }
        finally
        {
            context.CancellationToken = stopping;
            pool.Return(source);
        }
    }

    private static HandlerTimeoutException TimedOut(DeliveryContext context, TimeSpan timeout, OperationCanceledException cancelled) => new(
        $"Handler '{context.Handler.Name}' did not finish event {context.Envelope.Id} ({context.Envelope.Type}) within {timeout.TotalMilliseconds:0} ms (attempt {context.Attempt}).",
        cancelled);
}
