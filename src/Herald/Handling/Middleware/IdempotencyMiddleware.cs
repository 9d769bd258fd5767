using Herald.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Herald.Handling.Middleware;

/// <summary>
/// Skips an event id this consumer has already handled (or is handling), through the <see cref="IInboxStore"/>. The
/// claim is completed when the handler succeeds and released when it fails, so a redrive can run it again. A duplicate
/// is logged at information.
/// </summary>
/// <remarks>
/// With the in-memory inbox and an id Herald made, the claim goes straight to the consumer's window by the id's UUID (no
/// text made or parsed), and a handler that completes synchronously costs no state machine here.
/// </remarks>
internal sealed class IdempotencyMiddleware(IInboxStore inbox, ILoggerFactory loggers) : IDeliveryMiddleware
{
    private readonly ILogger _logger = loggers.CreateLogger("Herald.Handling");
    private readonly InMemoryInboxStore? _memory = inbox as InMemoryInboxStore;
    private ConsumerWindow? _last;

    public ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next)
    {
        if (!context.Handler.Options.Idempotent)
        {
            return next(context);
        }

        if (_memory is not { } memory || !context.Envelope.TryGetUuid(out Guid uuid))
        {
            return InvokeThroughStoreAsync(context, next);
        }

        InMemoryInboxStore.Window window = WindowOf(memory, context.Handler.Name);
        if (!window.TryBegin(uuid))
        {
            context.Outcome = DeliveryOutcome.Duplicate;
            HandlingLog.Duplicate(_logger, context.Handler.Name, context.Envelope.Type, context.Envelope.Id);
            return ValueTask.CompletedTask;
        }

        ValueTask inner = next(context);
        if (!inner.IsCompletedSuccessfully)
        {
            return AwaitInMemoryAsync(inner, context, window, uuid);
        }

        if (context.Outcome != DeliveryOutcome.Handled)
        {
            window.Abandon(uuid); // completing is nothing to do in memory
        }

        return inner;
    }

    private static async ValueTask AwaitInMemoryAsync(ValueTask inner, DeliveryContext context, InMemoryInboxStore.Window window, Guid uuid)
    {
        bool done = false;
        try
        {
            await inner.ConfigureAwait(false);
            done = context.Outcome == DeliveryOutcome.Handled;
        }
        finally
        {
            if (!done)
            {
                window.Abandon(uuid);
            }
        }
    }

    private async ValueTask InvokeThroughStoreAsync(DeliveryContext context, DeliveryDelegate next)
    {
        string consumer = context.Handler.Name;
        string id = context.Envelope.Id;
        if (!await inbox.TryBeginAsync(consumer, id, context.CancellationToken).ConfigureAwait(false))
        {
            context.Outcome = DeliveryOutcome.Duplicate;
            HandlingLog.Duplicate(_logger, consumer, context.Envelope.Type, id);
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

    /// <summary>
    /// The inbox's window for a consumer name. The host makes the steps once per consumer, so the last name asked is
    /// nearly always the same string object: a reference comparison instead of hashing the name per delivery.
    /// </summary>
    private InMemoryInboxStore.Window WindowOf(InMemoryInboxStore memory, string name)
    {
        ConsumerWindow? last = Volatile.Read(ref _last);
        if (last is not null && ReferenceEquals(last.Name, name))
        {
            return last.Window;
        }

        InMemoryInboxStore.Window window = memory.WindowFor(name);
        Volatile.Write(ref _last, new ConsumerWindow(name, window));
        return window;
    }

    private sealed record ConsumerWindow(string Name, InMemoryInboxStore.Window Window);
}
