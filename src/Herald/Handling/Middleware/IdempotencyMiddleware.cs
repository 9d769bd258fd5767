namespace Herald.Handling.Middleware;

/// <summary>
/// Skips an event id this consumer has already handled (or is handling), through the <see cref="IInboxStore"/>. The
/// claim is completed when the handler succeeds and released when it fails, so a redrive can run it again.
/// </summary>
internal sealed class IdempotencyMiddleware(IInboxStore inbox) : IDeliveryMiddleware
{
    public async ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next)
    {
        if (!context.Handler.Options.Idempotent)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        string consumer = context.Handler.Name;
        if (inbox is InMemoryInboxStore memory && context.Envelope.TryGetUuid(out Guid uuid))
        {
            // The in-memory inbox keys on the UUID itself: the id's text is never made for it.
            await InMemoryAsync(context, next, memory, consumer, uuid).ConfigureAwait(false);
            return;
        }

        string id = context.Envelope.Id;
        if (!await inbox.TryBeginAsync(consumer, id, context.CancellationToken).ConfigureAwait(false))
        {
            context.Outcome = DeliveryOutcome.Duplicate;
            return;
        }

        bool done = false;
        try
        {
            await next(context).ConfigureAwait(false);
            done = context.Outcome == DeliveryOutcome.Handled;
        }
        finally
        {
            if (done)
            {
                await inbox.CompleteAsync(consumer, id, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await inbox.AbandonAsync(consumer, id, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask InMemoryAsync(DeliveryContext context, DeliveryDelegate next, InMemoryInboxStore memory, string consumer, Guid uuid)
    {
        if (!memory.TryBegin(consumer, uuid))
        {
            context.Outcome = DeliveryOutcome.Duplicate;
            return;
        }

        bool done = false;
        try
        {
            await next(context).ConfigureAwait(false);
            done = context.Outcome == DeliveryOutcome.Handled;
        }
        finally
        {
            if (!done)
            {
                memory.Abandon(consumer, uuid);
            }
        }
    }
}
