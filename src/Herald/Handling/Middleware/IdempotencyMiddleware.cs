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

        // The in-memory inbox keys on the UUID of an id Herald made: the id's text is never made for it.
        InMemoryInboxStore? memory = inbox as InMemoryInboxStore;
        Guid uuid = default;
        bool byUuid = memory is not null && context.Envelope.TryGetUuid(out uuid);
        string? id = byUuid ? null : context.Envelope.Id;
        bool claimed = byUuid
            ? memory!.TryBegin(consumer, uuid)
            : await inbox.TryBeginAsync(consumer, id!, context.CancellationToken).ConfigureAwait(false);
        if (!claimed)
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
            if (byUuid)
            {
                if (!done)
                {
                    memory!.Abandon(consumer, uuid); // completing is nothing to do in memory
                }
            }
            else if (done)
            {
                await inbox.CompleteAsync(consumer, id!, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await inbox.AbandonAsync(consumer, id!, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}
