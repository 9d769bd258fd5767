using Microsoft.Extensions.DependencyInjection;

namespace Herald.Handling;

/// <summary>The end of the pipeline: resolves the handler from the delivery's scope and calls it with a typed context.</summary>
internal static class HandlerInvoker<THandler, TEvent>
    where THandler : class, IEventHandler<TEvent>
{
    public static async ValueTask InvokeAsync(DeliveryContext context)
    {
        Envelope envelope = context.Envelope;
        if (typeof(TEvent) != typeof(object) && envelope.Data is not TEvent)
        {
            throw new PoisonEventException(
                $"Event {envelope.Id} on '{envelope.Type}' carries {(envelope.Data is null ? "no object" : $"a {envelope.Data.GetType().FullName}")}, "
                + $"which cannot be bound to {typeof(TEvent).FullName} for handler '{context.Handler.Name}'.");
        }

        THandler handler = context.Services.GetRequiredService<THandler>();
        await handler.HandleAsync(new EventContext<TEvent>(envelope, context.Attempt), context.CancellationToken).ConfigureAwait(false);
        context.Outcome = DeliveryOutcome.Handled;
    }
}
