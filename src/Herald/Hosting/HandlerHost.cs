using System.Diagnostics;
using Herald.Diagnostics;
using Herald.Handling;
using Herald.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald;

/// <summary>
/// Runs the registered handlers. Start: subscriptions are made in <see cref="StartAsync"/> (so nothing published
/// while the app starts is missed) and the delivery loops start in <see cref="StartedAsync"/>, after the app has
/// started. Stop: intake stops, in-flight deliveries drain up to <see cref="HeraldHostOptions.ShutdownTimeout"/>, then
/// the handlers' tokens are cancelled, and what was left undelivered is logged per handler and kept in
/// <see cref="LastShutdown"/>.
/// </summary>
public sealed class HandlerHost : IHostedLifecycleService, IAsyncDisposable, IDisposable
{
    private readonly EventBus _bus;
    private readonly IServiceProvider _services;
    private readonly HandlerCatalog _catalog;
    private readonly HeraldHostOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly IServiceCollection? _registrations; // the final registrations: which handlers need no scope
    private readonly List<Task> _schedules = [];
    private CancellationTokenSource? _scheduleStop;
    private HandlerConsumer[] _consumers = [];
    private bool _subscribing;
    private bool _started;
    private bool _stopped;

    internal HandlerHost(EventBus bus, IServiceProvider services, HandlerCatalog catalog, HeraldHostOptions options, ILoggerFactory loggers, IServiceCollection? registrations = null)
    {
        _registrations = registrations;
        _bus = bus;
        _services = services;
        _catalog = catalog;
        _options = options;
        _logger = loggers.CreateLogger("Herald.Host");
    }

    /// <summary>The running handlers: their queues, counters and health.</summary>
    public IReadOnlyList<ConsumerInfo> Consumers => [.. Volatile.Read(ref _consumers).Select(c => c.Info)];

    /// <summary>What the last stop left undelivered; null before the first stop.</summary>
    public ShutdownReport? LastShutdown { get; private set; }

    /// <inheritdoc />
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Subscribes every handler, so events published from now on are queued for it. On a broker this waits for each
    /// queue's declaration, bounded by the transport's own timeouts and by <paramref name="cancellationToken"/>; when one
    /// fails, the ones made are released and the exception is thrown.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (_subscribing || _stopped)
            {
                return;
            }

            _subscribing = true;
        }

        IServiceScopeFactory scopes = _services.GetRequiredService<IServiceScopeFactory>();
        var consumers = new List<HandlerConsumer>();
        try
        {
            foreach (HandlerRegistration registration in _catalog.Handlers)
            {
                HandlerDescriptor d = registration.Descriptor;
                HandlerOptions o = d.Options;
                var spec = new ConsumerSpec(d.Name, d.Pattern)
                {
                    Group = d.Group,
                    Capacity = o.Capacity,
                    Overflow = o.Overflow,
                    Lanes = o.OrderedByKey ? o.Concurrency : 1,
                    EventType = d.EventType,
                    Ordered = o.OrderedByKey,
                    Concurrency = o.Concurrency,
                };
                IConsumer queue = await _bus.SubscribeConsumerAsync(spec, cancellationToken).ConfigureAwait(false);

                // Each consumer gets its own steps (PipelineStep.Create runs once per consumer), so a step may keep
                // per-consumer state without a lookup per delivery.
                IDeliveryMiddleware[] steps = [.. _catalog.Pipeline.Select(s => s.Create(_services))];
                Func<object>? makeHandler = _registrations is null ? null : ScopeFreeHandlers.ActivatorFor(d.HandlerType, _registrations, _services);
                consumers.Add(new HandlerConsumer(d, queue, PipelineComposer.Compose(steps, registration.Invoke), scopes, _bus.TimeProvider, _logger, makeHandler));
            }
        }
        catch
        {
            await ReleaseAsync(consumers).ConfigureAwait(false);
            lock (_sync)
            {
                _subscribing = false;
            }

            throw;
        }

        bool stoppedMeanwhile;
        lock (_sync)
        {
            stoppedMeanwhile = _stopped; // a stop that came while the queues were being declared found nothing to stop
            if (!stoppedMeanwhile)
            {
                Volatile.Write(ref _consumers, [.. consumers]);
            }
        }

        if (stoppedMeanwhile)
        {
            await ReleaseAsync(consumers).ConfigureAwait(false);
        }
    }

    /// <summary>Ends consumers that never started: their queues back to the bus, their tokens disposed.</summary>
    private async Task ReleaseAsync(IEnumerable<HandlerConsumer> consumers)
    {
        foreach (HandlerConsumer made in consumers)
        {
            await _bus.ReleaseConsumerAsync(made.Queue).ConfigureAwait(false);
            made.Dispose();
        }
    }

    /// <summary>Starts the delivery loops and the recurring publishes, after the application has started.</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (_started || _stopped)
            {
                return Task.CompletedTask;
            }

            _started = true;
            foreach (HandlerConsumer consumer in _consumers)
            {
                consumer.Start();
            }

            _scheduleStop = new CancellationTokenSource();
            foreach (RecurringPublish recurring in _catalog.Recurring)
            {
                CancellationToken stop = _scheduleStop.Token;
                _schedules.Add(Task.Run(() => recurring.RunAsync(_bus, _logger, stop), CancellationToken.None));
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Stops intake, drains in-flight deliveries up to <see cref="HeraldHostOptions.ShutdownTimeout"/> (or until
    /// <paramref name="cancellationToken"/> fires), cancels the handlers, and reports what was left.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        HandlerConsumer[] consumers;
        lock (_sync)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            consumers = _consumers;
        }

        long started = Stopwatch.GetTimestamp();
        if (_scheduleStop is not null)
        {
            await _scheduleStop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(_schedules).ConfigureAwait(false);
            _scheduleStop.Dispose();
        }

        foreach (HandlerConsumer consumer in consumers)
        {
            consumer.StopIntake();
        }

        Task drained = Task.WhenAll(consumers.Select(c => c.Completion));
        if (!await CompletesWithinAsync(drained, _options.ShutdownTimeout, cancellationToken).ConfigureAwait(false))
        {
            foreach (HandlerConsumer consumer in consumers)
            {
                consumer.Abort();
            }

            await CompletesWithinAsync(drained, _options.CancellationGrace, CancellationToken.None).ConfigureAwait(false);
        }

        var left = new Dictionary<string, long>(StringComparer.Ordinal);
        int stillRunning = 0;
        foreach (HandlerConsumer consumer in consumers)
        {
            HandlerStats stats = consumer.Stats;
            int queued = consumer.Queue.Stats.Queued;
            left[consumer.Descriptor.Name] = stats.Cancelled + queued;
            if (stats.Cancelled + queued > 0)
            {
                HandlingLog.LeftOnShutdown(_logger, consumer.Descriptor.Name, stats.Cancelled + queued, stats.Cancelled, queued);
            }

            int running = consumer.RunningLoops;
            if (running > 0)
            {
                stillRunning += running;
                HandlingLog.IgnoredCancellation(_logger, consumer.Descriptor.Name, running);
            }

            await _bus.ReleaseConsumerAsync(consumer.Queue).ConfigureAwait(false);
            consumer.Dispose();
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        LastShutdown = new ShutdownReport(elapsed, left, stillRunning);
        HandlingLog.Stopped(_logger, consumers.Length, elapsed.TotalMilliseconds, LastShutdown.TotalLeft);
    }

    /// <inheritdoc />
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops (if not stopped yet) with an already-expired deadline.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Stops (if not stopped yet) synchronously, for containers disposed synchronously. Prefer <see cref="DisposeAsync"/>.</summary>
    public void Dispose()
    {
#pragma warning disable VSTHRD002 // synchronous disposal on request; the async path never captures a context
        DisposeAsync().AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
    }

    /// <summary>Puts a dead letter back into its handler's queue; false when that handler is not running here.</summary>
    internal async ValueTask<bool> TryRedeliverAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        HandlerConsumer? consumer = Array.Find(Volatile.Read(ref _consumers), c => c.Descriptor.Name == deadLetter.Consumer);
        if (consumer is null || _stopped)
        {
            return false;
        }

        await consumer.RedeliverAsync(deadLetter.Envelope, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(timeout, _bus.TimeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception) when (task.IsFaulted)
        {
            return true; // a loop died; it was logged and shows in the health check
        }
    }
}
