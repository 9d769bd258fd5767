using System.Runtime.CompilerServices;
using Herald.Transport;

namespace Herald;

/// <summary>
/// One subscription: a bounded queue (or several ordered lanes) that receives every matching event published after
/// it was created. Pull: the caller owns the loop (<see cref="ReadAllAsync"/>). Dispose it to end it.
/// </summary>
/// <remarks>
/// Disposing completes the reader: a loop over <see cref="ReadAllAsync"/> ends normally. Events still queued at that
/// moment are not delivered; they are counted as dropped with <see cref="DropReason.Disposed"/> (and logged), so
/// nothing disappears unseen. To deliver everything, stop publishing and read until the queue is empty first.
/// </remarks>
/// <typeparam name="TEvent">The event type, or <see cref="object"/> for a pattern subscription.</typeparam>
public sealed class Subscription<TEvent> : IAsyncDisposable
{
    private static readonly bool Typed = typeof(TEvent) != typeof(object);
    private readonly IConsumer _consumer;
    private readonly EventBus _bus;

    internal Subscription(IConsumer consumer, TopicPattern pattern, EventBus bus)
    {
        _consumer = consumer;
        Pattern = pattern;
        _bus = bus;
    }

    /// <summary>The subscription's name (from its options, else its group, else its pattern and a number).</summary>
    public string Name => _consumer.Name;

    /// <summary>The topic or pattern subscribed to.</summary>
    public TopicPattern Pattern { get; }

    /// <summary>A snapshot of the counters: delivered, queued, dropped by reason, rejected, timed out.</summary>
    public SubscriptionStats Stats => _consumer.Stats;

    /// <summary>Reads events as they arrive until the subscription is disposed (the loop then ends) or the token is cancelled (it throws).</summary>
    /// <param name="cancellationToken">Stops the loop with an <see cref="OperationCanceledException"/>.</param>
    public async IAsyncEnumerable<EventContext<TEvent>> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await _consumer.WaitToReadAnyAsync(cancellationToken).ConfigureAwait(false))
        {
            while (TryRead(out EventContext<TEvent> context))
            {
                yield return context;
            }
        }
    }

    /// <summary>Takes the next queued event without waiting.</summary>
    /// <param name="context">The event, when there was one.</param>
    public bool TryRead(out EventContext<TEvent> context)
    {
        while (_consumer.TryReadAny(out Delivery delivery))
        {
            Settle(delivery); // a pull reader owns the event once it has it: acknowledged on read
            if (Accepts(delivery.Envelope, out Envelope accepted))
            {
                context = new EventContext<TEvent>(accepted);
                return true;
            }
        }

        context = default;
        return false;
    }

    /// <summary>Waits until an event is queued (true) or the subscription is disposed and empty (false).</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => _consumer.WaitToReadAnyAsync(cancellationToken);

    /// <summary>
    /// Runs <paramref name="handler"/> for every event, one loop per lane, lanes in parallel; within a lane (so for
    /// one key) events are handled one at a time, in publish order. Returns when the subscription is disposed; throws
    /// when the token is cancelled or a handler throws (the other lanes are stopped first).
    /// </summary>
    /// <param name="handler">Handles one event.</param>
    /// <param name="cancellationToken">Stops every lane.</param>
    public async Task ConsumeAsync(Func<EventContext<TEvent>, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (_consumer.Lanes == 1)
        {
            await ConsumeLaneAsync(0, handler, cancellationToken).ConfigureAwait(false);
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lanes = new Task[_consumer.Lanes];
        for (int lane = 0; lane < lanes.Length; lane++)
        {
            int current = lane;
            lanes[lane] = Task.Run(
                async () =>
                {
                    try
                    {
                        await ConsumeLaneAsync(current, handler, stop.Token).ConfigureAwait(false);
                    }
                    catch
                    {
                        await stop.CancelAsync().ConfigureAwait(false);
                        throw;
                    }
                },
                CancellationToken.None);
        }

        Task all = Task.WhenAll(lanes);
        try
        {
            await all.ConfigureAwait(false);
        }
        catch when (all.Exception is { } failure && failure.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) is { } first)
        {
            // A handler failed: report its exception rather than the cancellations it caused in the other lanes.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
    }

    /// <summary>Ends the subscription; see the remarks on <see cref="Subscription{TEvent}"/> for what happens to queued events.</summary>
    public ValueTask DisposeAsync() => _bus.ReleaseConsumerAsync(_consumer);

    /// <inheritdoc />
    public override string ToString() => $"Subscription '{Name}' on '{Pattern}'";

    private async Task ConsumeLaneAsync(int lane, Func<EventContext<TEvent>, CancellationToken, ValueTask> handler, CancellationToken cancellationToken)
    {
        while (await _consumer.WaitToReadAsync(lane, cancellationToken).ConfigureAwait(false))
        {
            while (_consumer.TryRead(lane, out Delivery delivery))
            {
                if (Accepts(delivery.Envelope, out Envelope accepted))
                {
                    await handler(new EventContext<TEvent>(accepted), cancellationToken).ConfigureAwait(false);
                }

                await delivery.AckAsync(CancellationToken.None).ConfigureAwait(false); // after the callback: at least once on a durable transport
            }
        }
    }

    /// <summary>Acknowledges a delivery the reader took; transports settle acknowledgements without waiting.</summary>
    private static void Settle(Delivery delivery)
    {
        ValueTask ack = delivery.AckAsync(CancellationToken.None);
        if (!ack.IsCompletedSuccessfully)
        {
#pragma warning disable VSTHRD002 // not reached by Herald's transports (their acknowledgements complete synchronously); kept correct for any other
            ack.AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
        }
    }

    /// <summary>
    /// True when the reader takes <paramref name="envelope"/>: its event is a <typeparamref name="TEvent"/>, or an
    /// older version's object, upcast (in process an event is its object). Anything else is counted and skipped.
    /// </summary>
    private bool Accepts(Envelope envelope, out Envelope accepted)
    {
        accepted = envelope;
        if (!Typed || envelope.Data is TEvent)
        {
            return true;
        }

        try
        {
            if (envelope.Data is { } data && EventUpcasters.UpcastObject(envelope, data, typeof(TEvent)) is { } upcast)
            {
                accepted = envelope.WithUpcast(upcast, TopicCache<TEvent>.Binding.DataSchema);
                return true;
            }
        }
        catch (EventDecodingException)
        {
            // a newer version than this reader knows, or an upcaster that failed: skipped, as any other wrong type
        }

        _consumer.CountWrongType(envelope);
        return false;
    }
}
