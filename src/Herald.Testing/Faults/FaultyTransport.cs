using Herald.Transport;

namespace Herald.Testing.Faults;

/// <summary>
/// A transport decorator for tests that injects the faults real transports have, from a seed
/// (<see cref="FaultPlan"/>): publishes that fail before reaching the transport, publishes stored twice, lost
/// acknowledgements (the delivery comes again), consumers crashing mid-delivery (redelivered while the handling goes
/// on), deliveries swapped where no order is promised, and delayed publishes and settles. Whatever the inner transport
/// promises is kept; the faults are the ones it may show anyway. Use it to prove a handler applies each effect once (through the inbox) and keeps per-key order.
/// </summary>
/// <example><code>var harness = await HeraldTestHarness.StartAsync(h => { h.InjectFaults(new FaultPlan(seed)); h.AddHandler&lt;Pay, OrderPlaced&gt;(); });</code></example>
public sealed class FaultyTransport : ITransport
{
    private readonly ITransport _inner;
    private readonly FaultPlan _plan;
    private readonly Random _publishes;
    private readonly Lock _lock = new();
    private readonly FaultCounters _counters = new();
    private long _published;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The transport that carries the events.</param>
    /// <param name="plan">Which faults, how often, from which seed.</param>
    public FaultyTransport(ITransport inner, FaultPlan plan)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(plan);
        plan.Validate();
        _inner = inner;
        _plan = plan;
        _publishes = new Random(plan.Seed);
    }

    /// <summary>The faults injected so far, by this transport and its consumers.</summary>
    public InjectedFaults Injected => _counters.Snapshot();

    /// <inheritdoc />
    public async ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        bool fail, duplicate;
        TimeSpan delay;
        long number;
        lock (_lock)
        {
            number = ++_published;
            fail = _publishes.NextDouble() < _plan.FailPublish;
            duplicate = !fail && _publishes.NextDouble() < _plan.DuplicatePublish;
            delay = fail ? TimeSpan.Zero : _plan.NextDelay(_publishes);
        }

        if (delay > TimeSpan.Zero)
        {
            _counters.Delayed();
            await Task.Delay(delay, _plan.TimeProvider, cancellationToken).ConfigureAwait(false);
        }

        if (fail)
        {
            _counters.FailedPublish();
            throw new InjectedFaultException($"Injected fault (seed {_plan.Seed}): publish #{number} of '{envelope.Type}' {envelope.Id} failed before reaching the transport.");
        }

        await _inner.PublishAsync(envelope, cancellationToken).ConfigureAwait(false);
        if (duplicate)
        {
            _counters.DuplicatedPublish();
            await _inner.PublishAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask<IConsumer> SubscribeAsync(ConsumerSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        IConsumer consumer = await _inner.SubscribeAsync(spec, cancellationToken).ConfigureAwait(false);

        // Each consumer decides from its own sequence (the seed and its name), so its decisions replay whatever the
        // other consumers' loops do meanwhile.
        return new FaultyConsumer(consumer, spec.Ordered, _plan, new Random(HashCode.Combine(_plan.Seed, (int)KeyHash.Of(spec.Name))), _counters);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
