using Herald.Diagnostics;
using Herald.Transport;
using Microsoft.Extensions.Logging;

namespace Herald.Handling.Middleware;

/// <summary>
/// Tries a failed attempt again, after the handler's <see cref="RetryPolicy"/> delay (exponential with jitter, on the
/// injected <see cref="TimeProvider"/>), while attempts remain and the exception is retryable. On a transport whose
/// consumer stores retries (<see cref="IRedeliveryScheduler"/>), the next attempt of a handler not ordered by key is
/// stored to be delivered after the delay (it survives a restart, and the attempt count goes on); otherwise (in memory,
/// or a handler ordered by key, whose later events must not overtake the retry) the step waits and tries again itself.
/// A cancellation caused
/// by shutdown is not a failure and is never retried; a poison event never is either.
/// </summary>
internal sealed class RetryMiddleware(ILoggerFactory loggers) : IDeliveryMiddleware
{
    private readonly ILogger _logger = loggers.CreateLogger("Herald.Handling");

    public ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next)
    {
        ValueTask first = next(context);
        return first.IsCompletedSuccessfully ? first : RetryAsync(first, context, next);
    }

    /// <summary>The first attempt did not succeed at once: await it, and try again while the policy allows.</summary>
    private async ValueTask RetryAsync(ValueTask attempt, DeliveryContext context, DeliveryDelegate next)
    {
        RetryPolicy policy = context.Handler.Options.Retry;
        while (true)
        {
            try
            {
                await attempt.ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !context.Stopping.IsCancellationRequested)
            {
                context.Exception = ex;
                int made = context.Attempt; // the envelope carries its attempt: a durably rescheduled one goes on counting
                if (!policy.ShouldRetry(ex))
                {
                    context.FailureReason = "not-retryable";
                    throw;
                }

                if (made >= policy.MaxAttempts)
                {
                    context.FailureReason = "attempts-exhausted";
                    throw;
                }

                TimeSpan delay = policy.DelayBefore(context.Attempt + 1, Random.Shared.NextDouble());
                HandlingLog.Retrying(_logger, ex, context.Handler.Name, context.Envelope.Type, context.Envelope.Id, context.Attempt, delay.TotalMilliseconds);
                if (context.Consumer is IRedeliveryScheduler && !context.Handler.Options.OrderedByKey)
                {
                    // A durable transport stores the next attempt; the consumer loop does it after the whole pipeline
                    // (so the inbox claim is released first: the stored retry must not meet this delivery's claim).
                    // Not for a handler ordered by key: the stored retry would let the key's later events overtake it,
                    // so there the step waits in the lane, holding the key's order (the delivery stays unacknowledged).
                    context.RedeliverAt = context.TimeProvider.GetUtcNow() + delay;
                    context.Outcome = DeliveryOutcome.Rescheduled;
                    return;
                }

                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, context.TimeProvider, context.Stopping).ConfigureAwait(false);
                }

                context.Attempt++;
            }

            attempt = next(context);
        }
    }
}
