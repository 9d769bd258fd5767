using Herald.Diagnostics;
using Herald.InMemory;
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
    private readonly IServiceProvider? _handlerServices;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _intake = new();
    private readonly CancellationTokenSource _abort = new();
    private Task[] _loops = [];
    private long _handled;
    private long _retried;
    private long _deadLettered;
    private long _duplicates;
    private long _failed;
    private long _cancelled;
    private int _inFlight;
    private Exception? _fault;

    public HandlerConsumer(HandlerDescriptor descriptor, IConsumer queue, DeliveryDelegate pipeline, IServiceScopeFactory scopes, TimeProvider time, ILogger logger, IServiceProvider? handlerServices = null)
    {
        _handlerServices = handlerServices;
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

    public HandlerStats Stats => new(
        Interlocked.Read(ref _handled),
        Interlocked.Read(ref _retried),
        Interlocked.Read(ref _deadLettered),
        Interlocked.Read(ref _duplicates),
        Interlocked.Read(ref _failed),
        Interlocked.Read(ref _cancelled),
        Volatile.Read(ref _inFlight));

    public ConsumerInfo Info
    {
        get
        {
            TimeSpan? age = _queue.TryPeekOldest(out Envelope? oldest) ? _time.GetUtcNow() - oldest.Time : null;
            return new ConsumerInfo(_descriptor, _queue.Stats, Stats, age, _descriptor.Options.Capacity, Volatile.Read(ref _fault));
        }
    }

    public void Start()
    {
        bool ordered = _descriptor.Options.OrderedByKey;
        int loops = _descriptor.Options.Concurrency;
        _loops = new Task[loops];
        for (int i = 0; i < loops; i++)
        {
            int lane = ordered ? i : 0;
            _loops[i] = Task.Run(() => LoopAsync(lane));
        }

        Completion = Task.WhenAll(_loops);
    }

    /// <summary>Stops taking new events; deliveries in flight go on.</summary>
    public void StopIntake() => _intake.Cancel();

    /// <summary>Cancels the handlers' tokens.</summary>
    public void Abort() => _abort.Cancel();

    public async ValueTask DisposeAsync()
    {
        await _queue.DisposeAsync().ConfigureAwait(false);
        _intake.Dispose();
        _abort.Dispose();
    }

    /// <summary>Puts a dead letter back into this handler's queue for a new first attempt.</summary>
    public ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken) =>
        _queue.RedeliverAsync(envelope.WithAttempt(1), cancellationToken);

    private async Task LoopAsync(int lane)
    {
        // Marks this flow as the reader of this queue, so a handler publishing into its own full queue spills
        // instead of waiting for room only it could make (see MemoryQueue.WriteAsync).
        MemoryQueue.CurrentReader.Value = _queue;
        CancellationToken intake = _intake.Token;
        using var timeouts = new AttemptTimeouts(_time, _abort.Token);
        DeliveryContext? context = null; // one per loop, reset per delivery
        try
        {
            while (await _queue.WaitToReadAsync(lane, intake).ConfigureAwait(false))
            {
                while (!intake.IsCancellationRequested && _queue.TryRead(lane, out Delivery delivery))
                {
                    context = await ProcessAsync(delivery, context, timeouts).ConfigureAwait(false);
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

    private async ValueTask<DeliveryContext?> ProcessAsync(Delivery delivery, DeliveryContext? reusable, AttemptTimeouts timeouts)
    {
        Interlocked.Increment(ref _inFlight);
        DeliveryContext? context = null;
        try
        {
            if (reusable is null)
            {
                context = new DeliveryContext(delivery.Envelope, _descriptor, services: null, _time, _abort.Token, _scopes)
                {
                    Timeouts = timeouts,
                    Consumer = _queue,
                    HandlerServices = _handlerServices,
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
            Interlocked.Decrement(ref _inFlight);
        }

        if (context is { Outcome: DeliveryOutcome.Rescheduled, RedeliverAt: { } due })
        {
            try
            {
                await _queue.ScheduleRedeliveryAsync(delivery.Envelope.WithAttempt(context.Attempt + 1), due, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Not stored: leave the delivery unacknowledged, so it comes again (at this attempt) rather than vanish.
                HandlingLog.Isolated(_logger, ex, _descriptor.Name, delivery.Envelope.Type, delivery.Envelope.Id, context.Attempt);
                context.Outcome = DeliveryOutcome.Failed;
                Count(context, delivery);
                await delivery.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                return context;
            }
        }

        Count(context, delivery);
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

    private void Count(DeliveryContext? context, Delivery delivery)
    {
        DeliveryOutcome outcome = context?.Outcome ?? DeliveryOutcome.Failed;
        int attempts = context is null ? 1 : context.Attempt - delivery.Attempt + 1;
        if (attempts > 1)
        {
            Interlocked.Add(ref _retried, attempts - 1);
        }

        switch (outcome)
        {
            case DeliveryOutcome.Handled:
                Interlocked.Increment(ref _handled);
                break;
            case DeliveryOutcome.Duplicate:
                Interlocked.Increment(ref _duplicates);
                break;
            case DeliveryOutcome.DeadLettered:
                Interlocked.Increment(ref _deadLettered);
                break;
            case DeliveryOutcome.Cancelled:
                Interlocked.Increment(ref _cancelled);
                break;
            case DeliveryOutcome.Rescheduled:
                Interlocked.Increment(ref _retried); // the next attempt is stored; it comes back as its own delivery
                break;
            default:
                Interlocked.Increment(ref _failed);
                break;
        }
    }
}
