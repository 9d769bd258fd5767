using Herald.Diagnostics;
using Herald.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Handling;

/// <summary>
/// Runs one handler: its subscription, its delivery loops (one per lane when ordered by key, else
/// <see cref="HandlerOptions.Concurrency"/> loops sharing one queue), a DI scope and the pipeline per delivery.
/// The loops have one owner (this object) and two tokens: intake (stop taking events) and abort (cancel handlers).
/// </summary>
internal sealed class HandlerConsumer
{
    private readonly HandlerDescriptor _descriptor;
    private readonly IConsumer _queue;
    private readonly DeliveryDelegate _pipeline;
    private readonly IServiceScopeFactory _scopes;
    private readonly Func<object>? _makeHandler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _intake = new();
    private readonly CancellationTokenSource _abort = new();
    private Task[] _loops = [];
    private LoopCounters[] _counters = [];
    private Exception? _fault;

    public HandlerConsumer(HandlerDescriptor descriptor, IConsumer queue, DeliveryDelegate pipeline, IServiceScopeFactory scopes, TimeProvider time, ILogger logger, Func<object>? makeHandler = null)
    {
        _makeHandler = makeHandler;
        _descriptor = descriptor;
        _queue = queue;
        _pipeline = pipeline;
        _scopes = scopes;
        _time = time;
        _logger = logger;
    }

    public HandlerDescriptor Descriptor => _descriptor;

    public IConsumer Queue => _queue;

    public Task Completion { get; private set; } = Task.CompletedTask;

    public int RunningLoops => _loops.Count(l => !l.IsCompleted);

    public HandlerStats Stats
    {
        get
        {
            long handled = 0, retried = 0, deadLettered = 0, duplicates = 0, failed = 0, cancelled = 0;
            int inFlight = 0;
            foreach (LoopCounters c in Volatile.Read(ref _counters))
            {
                handled += Volatile.Read(ref c.Handled);
                retried += Volatile.Read(ref c.Retried);
                deadLettered += Volatile.Read(ref c.DeadLettered);
                duplicates += Volatile.Read(ref c.Duplicates);
                failed += Volatile.Read(ref c.Failed);
                cancelled += Volatile.Read(ref c.Cancelled);
                inFlight += Volatile.Read(ref c.InFlight);
            }

            return new HandlerStats(handled, retried, deadLettered, duplicates, failed, cancelled, inFlight);
        }
    }

    public ConsumerInfo Info
    {
        get
        {
            TimeSpan? age = _queue.TryPeekOldest(out Envelope? oldest) ? _time.GetUtcNow() - oldest.Time : null;
            return new ConsumerInfo(_descriptor, _queue.Stats, Stats, age, _descriptor.Options.Capacity, Volatile.Read(ref _fault), (_queue as IConsumerBacklog)?.Backlog ?? 0);
        }
    }

    public void Start()
    {
        bool ordered = _descriptor.Options.OrderedByKey;
        int loops = _descriptor.Options.Concurrency;
        _loops = new Task[loops];
        var counters = new LoopCounters[loops];
        for (int i = 0; i < loops; i++)
        {
            counters[i] = new LoopCounters();
        }

        Volatile.Write(ref _counters, counters);
        for (int i = 0; i < loops; i++)
        {
            int lane = ordered ? i : 0;
            LoopCounters mine = counters[i];
            _loops[i] = Task.Run(() => LoopAsync(lane, mine));
        }

        Completion = Task.WhenAll(_loops);
    }

    /// <summary>Stops taking new events; deliveries in flight go on.</summary>
    public void StopIntake() => _intake.Cancel();

    /// <summary>Cancels the handlers' tokens.</summary>
    public void Abort() => _abort.Cancel();

    /// <summary>Ends the loops' tokens; the queue is the bus's to release (<see cref="EventBus.ReleaseConsumerAsync"/>).</summary>
    public void Dispose()
    {
        _intake.Dispose();
        _abort.Dispose();
    }

    /// <summary>Puts a dead letter back into this handler's queue for a new first attempt.</summary>
    public ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken) =>
        _queue.RedeliverAsync(envelope.WithAttempt(1), cancellationToken);

    private async Task LoopAsync(int lane, LoopCounters counters)
    {
        // Marks this flow as the reader of this queue, so a handler publishing into its own full queue spills
        // instead of waiting for room only it could make (see MemoryQueue.WriteAsync).
        DeliveryLoop.Current.Value = _queue;
        CancellationToken intake = _intake.Token;
        using var timeouts = new AttemptTimeouts(_time, _abort.Token);
        DeliveryContext? context = null; // one per loop, reset per delivery
        try
        {
            // The intake check comes first: a wait returns true at once while events are queued, so after a stop it
            // would hand the loop straight back to the inner loop, which stops on intake: a spin until the deadline.
            while (!intake.IsCancellationRequested && await _queue.WaitToReadAsync(lane, intake).ConfigureAwait(false))
            {
                while (!intake.IsCancellationRequested && _queue.TryRead(lane, out Delivery delivery))
                {
                    context = await ProcessAsync(delivery, context, timeouts, counters).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (intake.IsCancellationRequested)
        {
            // stopping: the host reports what was left
        }
        catch (Exception ex)
        {
            Volatile.Write(ref _fault, ex);
            HandlingLog.LoopDied(_logger, ex, _descriptor.Name);
            throw;
        }
    }

    private async ValueTask<DeliveryContext?> ProcessAsync(Delivery delivery, DeliveryContext? reusable, AttemptTimeouts timeouts, LoopCounters counters)
    {
        Volatile.Write(ref counters.InFlight, 1);
        DeliveryContext? context = null;
        try
        {
            if (reusable is null)
            {
                context = new DeliveryContext(delivery.Envelope, _descriptor, services: null, _time, _abort.Token, _scopes)
                {
                    Timeouts = timeouts,
                    Consumer = _queue,
                    MakeHandler = _makeHandler,
                };
            }
            else
            {
                context = reusable;
                context.Reset(delivery.Envelope);
            }

            try
            {
                await _pipeline(context).ConfigureAwait(false);
            }
            finally
            {
                await context.EndScopeAsync().ConfigureAwait(false); // the delivery's scope, if anything opened one
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            context?.Outcome = DeliveryOutcome.Cancelled;
        }
        catch (Exception ex)
        {
            // Last line of isolation, for pipelines without the isolation step: the loop never dies of a handler.
            context?.Outcome = DeliveryOutcome.Failed;
            HandlingLog.Isolated(_logger, ex, _descriptor.Name, delivery.Envelope.Type, delivery.Envelope.Id, context?.Attempt ?? delivery.Attempt);
        }
        finally
        {
            Volatile.Write(ref counters.InFlight, 0);
        }

        if (context is { Outcome: DeliveryOutcome.Rescheduled, RedeliverAt: { } due })
        {
            try
            {
                await ((IRedeliveryScheduler)_queue).ScheduleRedeliveryAsync(delivery.Envelope.WithAttempt(context.Attempt + 1), due, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Not stored: leave the delivery unacknowledged, so it comes again (at this attempt) rather than vanish.
                HandlingLog.Isolated(_logger, ex, _descriptor.Name, delivery.Envelope.Type, delivery.Envelope.Id, context.Attempt);
                context.Outcome = DeliveryOutcome.Failed;
                Count(counters, context, delivery);
                await delivery.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                return context;
            }
        }

        Count(counters, context, delivery);
        if (context?.Outcome == DeliveryOutcome.Cancelled)
        {
            // Shutdown cancelled the handler: not done, so not acknowledged (a durable transport delivers it again).
            await delivery.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await delivery.AckAsync(CancellationToken.None).ConfigureAwait(false);
        }
        return context;
    }

    private static void Count(LoopCounters counters, DeliveryContext? context, Delivery delivery)
    {
        DeliveryOutcome outcome = context?.Outcome ?? DeliveryOutcome.Failed;
        int attempts = context is null ? 1 : context.Attempt - delivery.Attempt + 1;
        if (attempts > 1)
        {
            LoopCounters.Add(ref counters.Retried, attempts - 1);
        }

        switch (outcome)
        {
            case DeliveryOutcome.Handled:
                LoopCounters.Add(ref counters.Handled, 1);
                break;
            case DeliveryOutcome.Duplicate:
                LoopCounters.Add(ref counters.Duplicates, 1);
                break;
            case DeliveryOutcome.DeadLettered:
                LoopCounters.Add(ref counters.DeadLettered, 1);
                break;
            case DeliveryOutcome.Cancelled:
                LoopCounters.Add(ref counters.Cancelled, 1);
                break;
            case DeliveryOutcome.Rescheduled:
                LoopCounters.Add(ref counters.Retried, 1); // the next attempt is stored; it comes back as its own delivery
                break;
            default:
                LoopCounters.Add(ref counters.Failed, 1);
                break;
        }
    }

    /// <summary>
    /// One delivery loop's counters. Only its loop writes them (plain stores, no atomic instruction per delivery);
    /// <see cref="Stats"/> sums every loop's.
    /// </summary>
    private sealed class LoopCounters
    {
        public long Handled;
        public long Retried;
        public long DeadLettered;
        public long Duplicates;
        public long Failed;
        public long Cancelled;
        public int InFlight;

        public static void Add(ref long counter, long amount) => Volatile.Write(ref counter, counter + amount);
    }
}
