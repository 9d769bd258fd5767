using Microsoft.Extensions.DependencyInjection;

namespace Herald.Handling;

/// <summary>The end of the pipeline: resolves the handler from the delivery's scope and calls it with a typed context.</summary>
internal static class HandlerInvoker<THandler, TEvent>
    where THandler : class, IEventHandler<TEvent>
{
    public static ValueTask InvokeAsync(DeliveryContext context)
    {
        Task handled;
        try
        {
            Envelope envelope = context.Envelope;
            if (typeof(TEvent) != typeof(object) && envelope.Data is not TEvent)
            {
                // In process the event is its object: an older version's is upcast; anything else is poison.
                envelope = (envelope.Data is null ? null : Upcast(envelope, envelope.Data)) ?? throw new PoisonEventException(
                    $"Event {envelope.Id} on '{envelope.Type}' carries {(envelope.Data is null ? "no object" : $"a {envelope.Data.GetType().FullName}")}, "
                    + $"which cannot be bound to {typeof(TEvent).FullName} for handler '{context.Handler.Name}'.");
            }

            THandler handler = context.MakeHandler is { } make ? (THandler)make() : context.Services.GetRequiredService<THandler>();
            handled = handler.HandleAsync(new EventContext<TEvent>(envelope, context.Attempt), context.CancellationToken);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex); // the pipeline's delegates never throw
        }

        if (handled.IsCompletedSuccessfully)
        {
            context.Outcome = DeliveryOutcome.Handled;
            return ValueTask.CompletedTask;
        }

        return AwaitAsync(handled, context);
    }

    /// <summary>An older version's object (published in process) upcast to <typeparamref name="TEvent"/>; null when it is no version of it.</summary>
    private static Envelope? Upcast(Envelope envelope, object data)
    {
        try
        {
            return EventUpcasters.UpcastObject(envelope, data, typeof(TEvent)) is { } upcast ? envelope.WithUpcast(upcast, TopicCache<TEvent>.Binding.DataSchema) : null;
        }
        catch (EventDecodingException ex)
        {
            throw new PoisonEventException(ex.Message, ex);
        }
    }

    private static async ValueTask AwaitAsync(Task handled, DeliveryContext context)
    {
#pragma warning disable VSTHRD003 // the handler's own task, started by this delivery
        await handled.ConfigureAwait(false);
#pragma warning restore VSTHRD003
        context.Outcome = DeliveryOutcome.Handled;
    }
}
