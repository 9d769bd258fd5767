using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Testing;

/// <summary>
/// An isolated Herald for one test: its own services, bus and handler host, started and stopped by the harness.
/// It records every event published and every delivery finished, and lets a test wait for one without sleeping.
/// </summary>
/// <example>
/// <code>
/// await using var harness = await HeraldTestHarness.StartAsync(h => h.AddHandler&lt;SendWelcomeEmail, UserCreated&gt;(),
///                                                             services => services.AddSingleton&lt;IMailer, FakeMailer&gt;());
/// await harness.Bus.PublishAsync(new UserCreated(42, "a@b.c", now));
/// EventContext&lt;UserCreated&gt; handled = await harness.Consumed&lt;UserCreated&gt;(e => e.Event.Id == 42);
/// </code>
/// </example>
public sealed class HeraldTestHarness : IAsyncDisposable
{
    /// <summary>How long the waits give up after when no timeout is passed.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ServiceProvider _provider;
    private readonly Recorder _recorder;
    private readonly IDisposable _observing;
    private readonly List<Envelope> _published;
    private bool _disposed;

    private HeraldTestHarness(ServiceProvider provider, Recorder recorder, IDisposable observing, List<Envelope> published)
    {
        _provider = provider;
        _recorder = recorder;
        _observing = observing;
        _published = published;
        Bus = provider.GetRequiredService<EventBus>();
        Host = provider.GetRequiredService<HandlerHost>();
        DeadLetters = provider.GetRequiredService<DeadLetters>();
    }

    /// <summary>The bus under test.</summary>
    public EventBus Bus { get; }

    /// <summary>The handler host under test.</summary>
    public HandlerHost Host { get; }

    /// <summary>The dead letters of this harness.</summary>
    public DeadLetters DeadLetters { get; }

    /// <summary>The harness's services.</summary>
    public IServiceProvider Services => _provider;

    /// <summary>
    /// Every event the bus accepted so far, in the order <c>PublishAsync</c> accepted them. The harness watches the bus
    /// itself rather than subscribing, so it leaves no consumer group, queue or binding behind on a durable transport.
    /// </summary>
    public IReadOnlyList<Envelope> Published
    {
        get
        {
            lock (_published)
            {
                return [.. _published];
            }
        }
    }

    /// <summary>Every delivery that finished so far, whatever its outcome.</summary>
    public IReadOnlyList<ConsumedEvent> Deliveries => _recorder.Snapshot();

    /// <summary>Creates services with Herald configured by <paramref name="configure"/>, and starts the handler host.</summary>
    /// <param name="configure">Registers handlers and middleware, sets options.</param>
    /// <param name="services">Registers what the handlers depend on.</param>
    /// <param name="timeProvider">A clock for the bus and the pipeline (e.g. a FakeTimeProvider); default the system clock.</param>
    /// <param name="loggerFactory">Where logs go; default nowhere.</param>
    public static async Task<HeraldTestHarness> StartAsync(
        Action<HeraldBuilder> configure,
        Action<IServiceCollection>? services = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var recorder = new Recorder();
        var collection = new ServiceCollection();
        collection.AddLogging();
        if (loggerFactory is not null)
        {
            collection.AddSingleton(loggerFactory);
        }

        services?.Invoke(collection);
        collection.AddHerald(h =>
        {
            h.Bus.Name = $"harness-{Guid.NewGuid():N}";
            if (timeProvider is not null)
            {
                h.Bus.TimeProvider = timeProvider;
            }

            h.Pipeline.Insert(0, new PipelineStep("harness", _ => recorder));
            configure(h);
        });
        ServiceProvider provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        EventBus bus = provider.GetRequiredService<EventBus>();
        var published = new List<Envelope>();
        IDisposable observing = bus.Observe(envelope =>
        {
            lock (published)
            {
                published.Add(envelope);
            }
        });
        HandlerHost host = provider.GetRequiredService<HandlerHost>();
        await host.StartAsync(CancellationToken.None).ConfigureAwait(false);
        await host.StartedAsync(CancellationToken.None).ConfigureAwait(false);
        return new HeraldTestHarness(provider, recorder, observing, published);
    }

#pragma warning disable VSTHRD200 // named as the harness API reads in tests: await harness.Consumed<T>(...), await harness.DeadLettered<T>(...)
    /// <summary>Waits until a handler has handled a <typeparamref name="TEvent"/> that <paramref name="predicate"/> accepts (one already handled counts).</summary>
    /// <exception cref="TimeoutException">None came within <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>); the message lists what was delivered.</exception>
    public async Task<EventContext<TEvent>> Consumed<TEvent>(Func<EventContext<TEvent>, bool>? predicate = null, TimeSpan? timeout = null)
    {
        ConsumedEvent found = await WaitAsync(
            c => c.Outcome == DeliveryOutcome.Handled && c.Envelope.Data is TEvent && (predicate?.Invoke(new EventContext<TEvent>(c.Envelope)) ?? true),
            $"a handled {typeof(TEvent).Name}",
            timeout).ConfigureAwait(false);
        return new EventContext<TEvent>(found.Envelope);
    }

    /// <summary>Waits until a delivery of a <typeparamref name="TEvent"/> that <paramref name="predicate"/> accepts has been dead-lettered.</summary>
    /// <exception cref="TimeoutException">None came within <paramref name="timeout"/>.</exception>
    public async Task<DeadLetter> DeadLettered<TEvent>(Func<EventContext<TEvent>, bool>? predicate = null, TimeSpan? timeout = null)
    {
        ConsumedEvent found = await WaitAsync(
            c => c.Outcome == DeliveryOutcome.DeadLettered && (typeof(TEvent) == typeof(object) || c.Envelope.Data is TEvent)
                && (predicate?.Invoke(new EventContext<TEvent>(c.Envelope)) ?? true),
            $"a dead-lettered {typeof(TEvent).Name}",
            timeout).ConfigureAwait(false);
        IReadOnlyList<DeadLetter> letters = await DeadLetters.ListAsync(max: int.MaxValue).ConfigureAwait(false);
        return letters.Last(d => d.Envelope.Id == found.Envelope.Id && d.Consumer == found.Handler);
    }

#pragma warning restore VSTHRD200

    /// <summary>Waits until <paramref name="count"/> deliveries matching <paramref name="match"/> have finished.</summary>
    /// <exception cref="TimeoutException">Fewer came within <paramref name="timeout"/>.</exception>
    public Task<IReadOnlyList<ConsumedEvent>> DeliveriesAsync(Func<ConsumedEvent, bool> match, int count, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(match);
        return _recorder.WaitForCountAsync(match, count, timeout ?? DefaultTimeout);
    }

    /// <summary>Stops the handler host (draining), then disposes the bus and the services.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await Host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        _observing.Dispose();
        await _provider.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<ConsumedEvent> WaitAsync(Func<ConsumedEvent, bool> match, string what, TimeSpan? timeout)
    {
        IReadOnlyList<ConsumedEvent> found = await _recorder.WaitForCountAsync(match, 1, timeout ?? DefaultTimeout, what).ConfigureAwait(false);
        return found[0];
    }

    /// <summary>The outermost pipeline step: records each finished delivery and wakes the waits it satisfies.</summary>
    private sealed class Recorder : IDeliveryMiddleware
    {
        private readonly List<ConsumedEvent> _seen = [];
        private readonly List<(Func<ConsumedEvent, bool> Match, int Count, TaskCompletionSource<IReadOnlyList<ConsumedEvent>> Done)> _waits = [];

        public async ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next)
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                Record(new ConsumedEvent(context.Handler.Name, context.Envelope, context.Outcome, context.Attempt - context.Envelope.Attempt + 1));
            }
        }

        public IReadOnlyList<ConsumedEvent> Snapshot()
        {
            lock (_seen)
            {
                return [.. _seen];
            }
        }

        public async Task<IReadOnlyList<ConsumedEvent>> WaitForCountAsync(Func<ConsumedEvent, bool> match, int count, TimeSpan timeout, string? what = null)
        {
            var done = new TaskCompletionSource<IReadOnlyList<ConsumedEvent>>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_seen)
            {
                List<ConsumedEvent> already = [.. _seen.Where(match)];
                if (already.Count >= count)
                {
                    return already;
                }

                _waits.Add((match, count, done));
            }

            try
            {
                return await done.Task.WaitAsync(timeout, TimeProvider.System).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                lock (_seen)
                {
                    _waits.RemoveAll(w => w.Done == done);
                    string seen = string.Join(", ", _seen.TakeLast(10).Select(s => $"{s.Handler}:{s.Envelope.Type}:{s.Outcome}"));
                    throw new TimeoutException(
                        $"Waited {timeout.TotalSeconds:0.#} s for {what ?? $"{count} matching deliveries"}; saw {_seen.Count(match)} matching of {_seen.Count} finished. Last: {seen}");
                }
            }
        }

        private void Record(ConsumedEvent consumed)
        {
            List<(TaskCompletionSource<IReadOnlyList<ConsumedEvent>> Done, IReadOnlyList<ConsumedEvent> Result)> wake = [];
            lock (_seen)
            {
                _seen.Add(consumed);
                for (int i = _waits.Count - 1; i >= 0; i--)
                {
                    (Func<ConsumedEvent, bool> match, int count, TaskCompletionSource<IReadOnlyList<ConsumedEvent>> done) = _waits[i];
                    if (match(consumed))
                    {
                        List<ConsumedEvent> all = [.. _seen.Where(match)];
                        if (all.Count >= count)
                        {
                            wake.Add((done, all));
                            _waits.RemoveAt(i);
                        }
                    }
                }
            }

            foreach ((TaskCompletionSource<IReadOnlyList<ConsumedEvent>> done, IReadOnlyList<ConsumedEvent> result) in wake)
            {
                done.TrySetResult(result);
            }
        }
    }
}
