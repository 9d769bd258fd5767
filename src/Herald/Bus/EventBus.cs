using System.Diagnostics;
using Herald.Diagnostics;
using Herald.Transport;

namespace Herald;

/// <summary>
/// Publishes typed events to subscriptions with bounded queues and explicit back-pressure. Create as many as you
/// like: there is no static or global instance, and two buses share nothing.
/// </summary>
/// <example>
/// <code>
/// await using var bus = new EventBus(new EventBusOptions());
/// await using var sub = bus.Subscribe&lt;UserCreated&gt;(new SubscriptionOptions { Capacity = 1024 });
/// await bus.PublishAsync(new UserCreated(42, "a@b.c", now), ct);
/// await foreach (EventContext&lt;UserCreated&gt; e in sub.ReadAllAsync(ct)) { ... }
/// </code>
/// </example>
public sealed class EventBus : IAsyncDisposable, IDisposable
{
    private readonly BusTelemetry _telemetry;
    private readonly ITransport _transport;
    private readonly TransportContext _context;
    private readonly IBindingRouter? _router;
    private readonly ConsumerRegistry _consumers;
    private readonly BackgroundWork _background = new();
    private readonly DelayedDeliveries _delayed;
    private readonly string _source;
    private readonly TimeProvider _time;
    private readonly PublishClock _clock;
    private long _published;
    private readonly Lock _observersLock = new();
    private Action<Envelope>[] _observers = [];
    private int _subscriptionNumber;
    private volatile bool _disposed;

    /// <summary>Creates a bus with default options.</summary>
    public EventBus()
        : this(new EventBusOptions())
    {
    }

    /// <summary>Creates a bus.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public EventBus(EventBusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Name = options.Name;
        _source = options.Source ?? $"urn:herald:{options.Name}";
        _time = options.TimeProvider;
        _clock = new PublishClock(_time);
        _telemetry = new BusTelemetry(options);
        _context = new TransportContext(options.Name, _telemetry);
        _transport = options.TransportFactory is { } factory
            ? factory(_context) ?? throw new InvalidOperationException("EventBusOptions.TransportFactory returned null; it must return the bus's transport.")
            : new InMemory.InMemoryTransport(_context);
        _router = _transport as IBindingRouter;
        _consumers = new ConsumerRegistry(_telemetry, _time);
        Gates = new TopicGates(_telemetry, options.PausedGateCapacity, _transport.PublishAsync, _background);
        _delayed = new DelayedDeliveries(_time, DeliverAsync, _background, _telemetry.Logger, options.DelayedCapacity);
    }

    /// <summary>The bus name given in <see cref="EventBusOptions.Name"/>.</summary>
    public string Name { get; }

    /// <summary>The clock of this bus.</summary>
    internal TimeProvider TimeProvider => _time;

    internal BusTelemetry Telemetry => _telemetry;

    /// <summary>The bus's transport (made by <see cref="EventBusOptions.TransportFactory"/>, or the in-memory one).</summary>
    public ITransport Transport => _transport;

    /// <summary>Runtime topic gates: block, pause and resume topic patterns.</summary>
    public TopicGates Gates { get; }

    /// <summary>A snapshot of the bus's counters.</summary>
    public EventBusStats Stats => new(
        Interlocked.Read(ref _published),
        _context.Unrouted,
        Gates.Gated,
        Gates.Held,
        Gates.ReleaseFailures,
        Gates.DroppedOnDispose + _delayed.DroppedOnDispose,
        _consumers.Count,
        _background.Count,
        _delayed.Pending,
        _delayed.Failures);

    /// <summary>
    /// Publishes an event to every matching subscription. Completes when the event is in every matching
    /// subscription's queue (one member's, for a group), or held by a paused gate.
    /// </summary>
    /// <param name="event">The event; its type must carry a <see cref="TopicAttribute"/>.</param>
    /// <param name="cancellationToken">Cancels a publish waiting for room.</param>
    /// <exception cref="ArgumentNullException"><paramref name="event"/> is null.</exception>
    /// <exception cref="InvalidTopicException">The event type has no topic or an invalid one.</exception>
    /// <exception cref="PublishTimeoutException">A <see cref="Overflow.Wait"/> subscription stayed full for <see cref="EventBusOptions.PublishTimeout"/>.</exception>
    /// <exception cref="PublishRejectedException">A <see cref="Overflow.Reject"/> subscription was full.</exception>
    /// <exception cref="TopicBlockedException">A blocked gate covers the topic.</exception>
    /// <exception cref="ObjectDisposedException">The bus was disposed.</exception>
    public ValueTask PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default)
        where TEvent : notnull => PublishAsync(@event, options: null, cancellationToken);

    /// <summary>Publishes an event with a key, correlation and headers. See <see cref="PublishAsync{TEvent}(TEvent, CancellationToken)"/>.</summary>
    /// <param name="event">The event; its type must carry a <see cref="TopicAttribute"/>.</param>
    /// <param name="options">The key, correlation id, causation id and headers; null for none.</param>
    /// <param name="cancellationToken">Cancels a publish waiting for room.</param>
    public ValueTask PublishAsync<TEvent>(TEvent @event, PublishOptions? options, CancellationToken cancellationToken = default)
        where TEvent : notnull
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (@event is null)
        {
            throw new ArgumentNullException(nameof(@event), $"Cannot publish a null {typeof(TEvent).Name}: pass an event instance.");
        }

        // Sealed types and structs are resolved once per type; otherwise the runtime type decides the topic.
        TopicBinding binding = typeof(TEvent).IsSealed || typeof(TEvent).IsValueType
            ? TopicCache<TEvent>.Binding
            : Topic.BindingOf(@event.GetType());

        if (options is not null || Activity.Current is not null || _telemetry.Source.HasListeners())
        {
            return PublishWithOptionsAsync(binding, @event, options, cancellationToken);
        }

        DateTimeOffset now = _clock.Now();
        var envelope = new Envelope(binding.Topic, @event, now, UuidV7.New(now)) { Source = _source, DataSchema = binding.DataSchema };
        return PublishEnvelopeAsync(envelope, binding, cancellationToken);
    }

    /// <summary>
    /// Publishes a prepared envelope as it is (its id, key, time and headers are kept): for redrives, relays and
    /// events whose topic is only known at run time.
    /// </summary>
    /// <param name="envelope">The envelope to publish.</param>
    /// <param name="cancellationToken">Cancels a publish waiting for room.</param>
    public ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(envelope);
        Envelope.ValidateHeaders(envelope.Headers);
        return PublishEnvelopeAsync(envelope, binding: null, cancellationToken);
    }

    /// <summary>Registers a consumer on the transport (the handler host's way in); <see cref="ReleaseConsumerAsync"/> ends it.</summary>
    internal async ValueTask<IConsumer> SubscribeConsumerAsync(ConsumerSpec spec, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        IConsumer consumer = await _transport.SubscribeAsync(spec, cancellationToken).ConfigureAwait(false);
        _consumers.Add(consumer);
        return consumer;
    }

    /// <summary>Disposes a consumer this bus made and forgets it (its gauges and count).</summary>
    internal ValueTask ReleaseConsumerAsync(IConsumer consumer)
    {
        _consumers.Remove(consumer);
        return consumer.DisposeAsync();
    }

    /// <summary>Subscribes to the topic of <typeparamref name="TEvent"/>. The subscription receives every event published from now on.</summary>
    /// <param name="options">Capacity, overflow policy, group and lanes; null for the defaults.</param>
    /// <exception cref="InvalidTopicException">The event type has no topic or an invalid one.</exception>
    public Subscription<TEvent> Subscribe<TEvent>(SubscriptionOptions? options = null)
    {
        TopicBinding binding = TopicCache<TEvent>.Binding;
        return Subscribe<TEvent>(TopicPattern.Parse(binding.Topic), options);
    }

    /// <summary>
    /// Subscribes to every topic matching <paramref name="pattern"/> (<c>*</c> one segment, <c>#</c> zero or more),
    /// receiving events untyped.
    /// </summary>
    /// <param name="pattern">A topic or pattern, e.g. <c>order.*</c>, <c>user.#</c>, <c>#</c>.</param>
    /// <param name="options">Capacity, overflow policy, group and lanes; null for the defaults.</param>
    /// <exception cref="InvalidTopicException">The pattern breaks the grammar.</exception>
    public Subscription<object> Subscribe(string pattern, SubscriptionOptions? options = null) =>
        Subscribe<object>(TopicPattern.Parse(pattern), options);

    /// <summary>
    /// Disposes every subscription (their readers complete; queued events are counted as dropped, reason disposed),
    /// stops the bus's background work and waits for it. Publishing afterwards throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _delayed.Dispose();
        await _background.DisposeAsync().ConfigureAwait(false);
        _delayed.DropPending();
        int held = Gates.DropHeld();
        if (held > 0)
        {
            Log.HeldOnDispose(_telemetry.Logger, held);
        }

        await _transport.DisposeAsync().ConfigureAwait(false); // ends every consumer it made
        _consumers.Clear();
        _telemetry.Dispose();
    }

    /// <summary>
    /// Disposes the bus synchronously (blocking until its background work has stopped), for containers and callers
    /// that dispose synchronously. Prefer <see cref="DisposeAsync"/>.
    /// </summary>
    public void Dispose()
    {
#pragma warning disable VSTHRD002 // synchronous disposal on request; the async path never captures a context
        DisposeAsync().AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
    }

    /// <inheritdoc />
    public override string ToString() => $"EventBus '{Name}'";

    private Subscription<TEvent> Subscribe<TEvent>(TopicPattern pattern, SubscriptionOptions? options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= SubscriptionOptions.Default;
        options.Validate();
        string name = options.Name ?? options.Group ?? $"{pattern.Value}#{Interlocked.Increment(ref _subscriptionNumber)}";
        var spec = new ConsumerSpec(name, pattern)
        {
            Group = options.Group,
            Capacity = options.Capacity,
            Overflow = options.Overflow,
            Lanes = options.Lanes,
            EventType = typeof(TEvent),
        };
        ValueTask<IConsumer> subscribing = SubscribeConsumerAsync(spec, CancellationToken.None);
#pragma warning disable VSTHRD002 // Subscribe is synchronous by contract; in memory it completes at once, a broker's declaration is bounded by its own timeout
        IConsumer consumer = subscribing.IsCompletedSuccessfully ? subscribing.Result : subscribing.AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
        return new Subscription<TEvent>(consumer, pattern, this);
    }

    /// <summary>The publish path with options, tracing or a delay: one producer activity, traceparent into the envelope.</summary>
    private async ValueTask PublishWithOptionsAsync(TopicBinding binding, object @event, PublishOptions? options, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _clock.Now();
        DateTimeOffset? due = options is { Delay: not null } or { DeliverAt: not null } ? options.DueTime(_time.GetUtcNow()) : null;
        if (options?.Headers is { Count: > 0 } headers)
        {
            Envelope.ValidateHeaders(headers);
        }

        using Activity? activity = _telemetry.Source.StartActivity($"send {binding.Topic}", ActivityKind.Producer);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", "herald");
            activity.SetTag("messaging.operation.name", "send");
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.destination.name", binding.Topic);
        }

        Activity? context = activity ?? Activity.Current;
        var envelope = new Envelope(binding.Topic, @event, now, UuidV7.New(now))
        {
            Source = _source,
            DataSchema = binding.DataSchema,
            Subject = options?.Key,
            CorrelationId = options?.CorrelationId,
            CausationId = options?.CausationId,
            Headers = options?.Headers ?? Envelope.NoHeaders,
            TraceParent = context?.IdFormat == ActivityIdFormat.W3C ? context.Id : null,
            TraceState = context?.TraceStateString,
        };
        activity?.SetTag("messaging.message.id", envelope.Id);

        try
        {
            if (options?.Transaction is { } transaction)
            {
                await PublishInTransactionAsync(envelope, transaction, due, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (due is { } dueTime && dueTime > now)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_transport is IDelayedPublish delayed)
                {
                    await delayed.ScheduleAsync(envelope, dueTime, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    _delayed.Schedule(envelope, dueTime);
                }

                Accepted(envelope);
                return;
            }

            await PublishEnvelopeAsync(envelope, binding, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (activity is not null)
        {
            activity.AddException(ex);
            activity.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    /// <summary>The outbox path: the envelope is written in the caller's transaction (gates do not apply).</summary>
    private async ValueTask PublishInTransactionAsync(Envelope envelope, System.Data.Common.DbTransaction transaction, DateTimeOffset? due, CancellationToken cancellationToken)
    {
        if (_transport is not ITransactionalPublish transactional)
        {
            throw new NotSupportedException(
                $"PublishOptions.Transaction needs a transport that stores events in that database (UseSqlite on the same file, UsePostgres on the same database); bus '{Name}' runs on {_transport.GetType().Name}.");
        }

        if (due is not null)
        {
            throw new ArgumentException("PublishOptions.Transaction cannot be combined with Delay or DeliverAt.", nameof(transaction));
        }

        await transactional.PublishAsync(envelope, transaction, cancellationToken).ConfigureAwait(false);
        Accepted(envelope);
    }

    /// <summary>Delivers an already-accepted envelope (a delayed one falling due): gates and transport, not counted again.</summary>
    private async ValueTask DeliverAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        if (await Gates.AdmitAsync(envelope, cancellationToken).ConfigureAwait(false) == GateOutcome.Pass)
        {
            await _transport.PublishAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Gates, then the transport (by the type's slot when the publish was typed), then the count.</summary>
    private ValueTask PublishEnvelopeAsync(Envelope envelope, TopicBinding? binding, CancellationToken cancellationToken)
    {
        ValueTask<GateOutcome> gated = Gates.AdmitAsync(envelope, cancellationToken);
        if (!gated.IsCompletedSuccessfully)
        {
            return PublishAfterGateAsync(gated, envelope, cancellationToken);
        }

#pragma warning disable VSTHRD103 // completed: checked just above, no blocking
        GateOutcome outcome = gated.Result;
#pragma warning restore VSTHRD103
        switch (outcome)
        {
            case GateOutcome.Held:
                Accepted(envelope);
                return ValueTask.CompletedTask;
            case GateOutcome.Discarded:
                return ValueTask.CompletedTask;
        }

        ValueTask sent = binding is not null && _router is not null
            ? _router.PublishAsync(envelope, binding, cancellationToken)
            : _transport.PublishAsync(envelope, cancellationToken);
        if (!sent.IsCompletedSuccessfully)
        {
            return AwaitSentAsync(sent, envelope);
        }

        Accepted(envelope);
        return ValueTask.CompletedTask;
    }

    private async ValueTask PublishAfterGateAsync(ValueTask<GateOutcome> gated, Envelope envelope, CancellationToken cancellationToken)
    {
        GateOutcome outcome = await gated.ConfigureAwait(false);
        if (outcome == GateOutcome.Discarded)
        {
            return;
        }

        if (outcome == GateOutcome.Pass)
        {
            await _transport.PublishAsync(envelope, cancellationToken).ConfigureAwait(false);
        }

        Accepted(envelope);
    }

    private async ValueTask AwaitSentAsync(ValueTask sent, Envelope envelope)
    {
        await sent.ConfigureAwait(false);
        Accepted(envelope);
    }

    /// <summary>
    /// Calls <paramref name="observer"/> with every envelope this bus accepts from now on (on the publisher's thread,
    /// so it must be quick and must not throw); disposing the result stops it. For operators' views (the dashboard).
    /// </summary>
    internal IDisposable Observe(Action<Envelope> observer)
    {
        lock (_observersLock)
        {
            _observers = [.. _observers, observer];
        }

        return new Unobserve(this, observer);
    }

    private void Accepted(Envelope envelope)
    {
        Interlocked.Increment(ref _published);
        Action<Envelope>[] observers = Volatile.Read(ref _observers);
        for (int i = 0; i < observers.Length; i++)
        {
            observers[i](envelope);
        }

        if (_telemetry.Published.Enabled)
        {
            _telemetry.Published.Add(1, _telemetry.BusTag, new("messaging.destination.name", envelope.Type));
        }
    }

    private sealed class Unobserve(EventBus bus, Action<Envelope> observer) : IDisposable
    {
        public void Dispose()
        {
            lock (bus._observersLock)
            {
                bus._observers = Array.FindAll(bus._observers, o => !ReferenceEquals(o, observer));
            }
        }
    }
}
