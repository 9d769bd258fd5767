using Herald.Transport;

namespace Herald.Testing.Faults;

/// <summary>
/// A transport decorator for tests that injects the faults real transports have, from a seed
/// (<see cref="FaultPlan"/>): publishes that fail before reaching the transport, publishes stored twice, and lost
/// acknowledgements (the delivery comes again). Whatever the inner transport promises is kept; the faults are the ones
/// it may show anyway. Use it to prove a handler applies each effect once (through the inbox) and keeps per-key order.
/// </summary>
/// <example><code>var harness = await HeraldTestHarness.StartAsync(h => { h.InjectFaults(new FaultPlan(seed)); h.AddHandler&lt;Pay, OrderPlaced&gt;(); });</code></example>
public sealed class FaultyTransport : ITransport
{
    private readonly ITransport _inner;
    private readonly FaultPlan _plan;
    private readonly Random _publishes;
    private readonly Lock _lock = new();
    private long _published;
    private long _failed;
    private long _duplicated;
    private long _droppedAcks;

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

    /// <summary>Faults injected so far: failed publishes, duplicated publishes, dropped acknowledgements.</summary>
    public (long FailedPublishes, long DuplicatedPublishes, long DroppedAcks) Injected =>
        (Interlocked.Read(ref _failed), Interlocked.Read(ref _duplicated), Interlocked.Read(ref _droppedAcks));


    /// <inheritdoc />
    public async ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        bool fail, duplicate;
        long number;
        lock (_lock)
        {
            number = ++_published;
            fail = _publishes.NextDouble() < _plan.FailPublish;
            duplicate = !fail && _publishes.NextDouble() < _plan.DuplicatePublish;
        }

        if (fail)
        {
            Interlocked.Increment(ref _failed);
            throw new InjectedFaultException($"Injected fault (seed {_plan.Seed}): publish #{number} of '{envelope.Type}' {envelope.Id} failed before reaching the transport.");
        }

        await _inner.PublishAsync(envelope, cancellationToken).ConfigureAwait(false);
        if (duplicate)
        {
            Interlocked.Increment(ref _duplicated);
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
        return new FaultyConsumer(consumer, _plan, new Random(HashCode.Combine(_plan.Seed, (int)KeyHash.Of(spec.Name))), () => Interlocked.Increment(ref _droppedAcks));
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
