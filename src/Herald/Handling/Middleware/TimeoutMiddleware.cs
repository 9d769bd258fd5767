namespace Herald.Handling.Middleware;

/// <summary>
/// Gives each attempt a token that fires at the handler's <see cref="HandlerOptions.Timeout"/> (on the injected
/// <see cref="TimeProvider"/>) as well as at shutdown. A handler cancelled by its timeout fails the attempt with a
/// <see cref="HandlerTimeoutException"/>, which is retryable. Cancellation is cooperative: a handler that ignores its
/// token keeps running.
/// </summary>
internal sealed class TimeoutMiddleware : IDeliveryMiddleware
{
    public ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next)
    {
        TimeSpan timeout = context.Handler.Options.Timeout;
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return next(context);
        }

        CancellationToken outer = context.CancellationToken;
        return context.Timeouts is { } pool && outer == context.Stopping
            ? RunPooledAsync(context, next, pool, timeout)
            : LinkedAsync(context, next, outer, timeout);
    }

    /// <summary>The common case (the token not narrowed by an earlier step): the loop's watchdog and reusable source.</summary>
    private static ValueTask RunPooledAsync(DeliveryContext context, DeliveryDelegate next, Handling.AttemptTimeouts pool, TimeSpan timeout)
    {
        CancellationTokenSource source = pool.Rent(timeout);
        context.CancellationToken = source.Token;
        ValueTask inner = next(context);
        if (!inner.IsCompletedSuccessfully)
        {
            return AwaitPooledAsync(inner, context, pool, source, timeout);
        }

        context.CancellationToken = context.Stopping;
        pool.Return(source);
        return inner;
    }

    private static async ValueTask AwaitPooledAsync(ValueTask inner, DeliveryContext context, Handling.AttemptTimeouts pool, CancellationTokenSource source, TimeSpan timeout)
    {
        CancellationToken stopping = context.Stopping;
        try
        {
            await inner.ConfigureAwait(false);
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

    /// <summary>A token an earlier step narrowed: a timer of this attempt's own, linked to it.</summary>
    private static async ValueTask LinkedAsync(DeliveryContext context, DeliveryDelegate next, CancellationToken outer, TimeSpan timeout)
    {
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

    private static HandlerTimeoutException TimedOut(DeliveryContext context, TimeSpan timeout, OperationCanceledException cancelled) => new(
        $"Handler '{context.Handler.Name}' did not finish event {context.Envelope.Id} ({context.Envelope.Type}) within {timeout.TotalMilliseconds:0} ms (attempt {context.Attempt}).",
        cancelled);
}
