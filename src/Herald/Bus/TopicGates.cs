using System.Threading.Channels;
using Herald.Diagnostics;

namespace Herald;

/// <summary>
/// Runtime switches over topic patterns, for gray releases and incidents without a redeploy: <see cref="Block"/>
/// refuses publishes to matching topics, <see cref="Pause"/> holds them, <see cref="Resume"/> lets them flow again
/// and delivers what was held, in publish order, before anything newer.
/// </summary>
/// <remarks>
/// With no gate set, a publish pays one array-length check. When gates overlap, a blocked gate wins over a paused
/// one, and an event is held by the first matching paused gate.
/// </remarks>
public sealed class TopicGates
{
    private readonly Lock _sync = new();
    private readonly BusTelemetry _telemetry;
    private readonly int _heldCapacity;
    private readonly HeldReleases _releases;
    private readonly BackgroundWork _background;
    private Gate[] _gates = [];
    private long _gated;

    internal TopicGates(BusTelemetry telemetry, int heldCapacity, Func<Envelope, CancellationToken, ValueTask> deliver, BackgroundWork background)
    {
        _telemetry = telemetry;
        _heldCapacity = heldCapacity;
        _releases = new HeldReleases(deliver, telemetry.Logger, static (log, ex, envelope, gate) => Log.GateReleaseFailed(log, ex, envelope.Id, envelope.Type, gate!));
        _background = background;
    }

    internal long Gated => Interlocked.Read(ref _gated);

    internal long ReleaseFailures => _releases.Failures;

    /// <summary>Held events the bus was disposed before it could deliver (still held, or taken out for a delivery that was cancelled).</summary>
    internal long DroppedOnDispose => _releases.DroppedOnDispose;

    internal int Held
    {
        get
        {
            int held = 0;
            foreach (Gate gate in Volatile.Read(ref _gates))
            {
                held += gate.Held.Reader.Count;
            }

            return held;
        }
    }

    /// <summary>Refuses publishes to topics matching <paramref name="pattern"/> until <see cref="Resume"/>.</summary>
    /// <param name="pattern">A topic pattern, e.g. <c>order.*</c>.</param>
    /// <param name="behavior">Throw at the publisher (default) or discard and count.</param>
    /// <exception cref="InvalidTopicException">The pattern breaks the grammar.</exception>
    public void Block(string pattern, BlockBehavior behavior = BlockBehavior.Throw) => Set(pattern, GateState.Blocked, behavior);

    /// <summary>
    /// Holds publishes to topics matching <paramref name="pattern"/>: they are accepted (up to
    /// <see cref="EventBusOptions.PausedGateCapacity"/>, then publishers wait) and delivered on <see cref="Resume"/>.
    /// </summary>
    /// <param name="pattern">A topic pattern, e.g. <c>order.*</c>.</param>
    /// <exception cref="InvalidTopicException">The pattern breaks the grammar.</exception>
    public void Pause(string pattern) => Set(pattern, GateState.Paused, BlockBehavior.Throw);

    /// <summary>Opens the gate set on exactly <paramref name="pattern"/>, delivering what it held first. False when there was no such gate.</summary>
    /// <param name="pattern">The pattern the gate was set with.</param>
    public bool Resume(string pattern)
    {
        TopicPattern parsed = TopicPattern.Parse(pattern);
        lock (_sync)
        {
            Gate? gate = Array.Find(_gates, g => g.Pattern.Equals(parsed));
            if (gate is null)
            {
                return false;
            }

            if (gate.Held.Reader.Count == 0)
            {
                Volatile.Write(ref _gates, Array.FindAll(_gates, g => g != gate));
                Log.GateChanged(_telemetry.Logger, gate.Pattern.Value, "open");
                return true;
            }

            gate.State = GateState.Resuming;
            Log.GateChanged(_telemetry.Logger, gate.Pattern.Value, "resuming");
            if (!gate.Draining)
            {
                gate.Draining = true;
                _background.Run(token => DrainAsync(gate, token));
            }

            return true;
        }
    }

    /// <summary>The gates set now.</summary>
    public IReadOnlyList<GateInfo> List()
    {
        lock (_sync)
        {
            return [.. _gates.Select(g => new GateInfo(g.Pattern.Value, g.State, g.Held.Reader.Count, g.Behavior))];
        }
    }

    /// <summary>
    /// Lets a publish through the gates: <see cref="GateOutcome.Pass"/> when no gate applies and the caller delivers
    /// the event; held or discarded when a gate took it; an exception when a blocked gate refuses it.
    /// </summary>
    internal ValueTask<GateOutcome> AdmitAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        Gate[] gates = Volatile.Read(ref _gates);
        return gates.Length == 0 ? new ValueTask<GateOutcome>(GateOutcome.Pass) : AdmitSlowAsync(gates, envelope, cancellationToken);
    }

    /// <summary>Counts what the gates still hold when the bus is disposed (after the releases stopped), and returns the count.</summary>
    internal int DropHeld()
    {
        int dropped = 0;
        lock (_sync)
        {
            foreach (Gate gate in _gates)
            {
                gate.Held.Writer.TryComplete();
                while (gate.Held.Reader.TryRead(out _))
                {
                    dropped++;
                }
            }
        }

        _releases.CountDropped(dropped);
        return dropped;
    }

    private async ValueTask<GateOutcome> AdmitSlowAsync(Gate[] gates, Envelope envelope, CancellationToken cancellationToken)
    {
        while (true)
        {
            Gate? holding = null;
            lock (_sync)
            {
                foreach (Gate gate in gates)
                {
                    if (!gate.Removed && gate.Pattern.IsMatch(envelope.Type))
                    {
                        if (gate.State == GateState.Blocked)
                        {
                            long total = Interlocked.Increment(ref _gated);
                            _telemetry.CountRefused(envelope.Type, "blocked");
                            Log.Gated(_telemetry.Logger, envelope.Type, gate.Pattern.Value, gate.Behavior.ToString(), total);
                            return gate.Behavior == BlockBehavior.Discard
                                ? GateOutcome.Discarded
                                : throw new TopicBlockedException(envelope.Type, gate.Pattern.Value);
                        }

                        holding ??= gate;
                    }
                }

                if (holding is null)
                {
                    return GateOutcome.Pass;
                }

                if (holding.Held.Writer.TryWrite(envelope))
                {
                    return GateOutcome.Held;
                }
            }

            await WaitForRoomAsync(holding, envelope, cancellationToken).ConfigureAwait(false);
            gates = Volatile.Read(ref _gates); // the gate may have changed while we waited: decide again
        }
    }

    private async ValueTask WaitForRoomAsync(Gate gate, Envelope envelope, CancellationToken cancellationToken)
    {
        TimeSpan timeout = _telemetry.PublishTimeout;
        using var timer = new CancellationTokenSource(timeout, _telemetry.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await gate.Held.Writer.WaitToWriteAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _telemetry.CountRefused(envelope.Type, "timeout");
            throw new PublishTimeoutException(
                envelope.Type,
                $"gate {gate.Pattern.Value}",
                timeout,
                $"the paused gate '{gate.Pattern.Value}' already holds {_heldCapacity} events. Resume it, or raise EventBusOptions.PausedGateCapacity.");
        }
    }

    private void Set(string pattern, GateState state, BlockBehavior behavior)
    {
        TopicPattern parsed = TopicPattern.Parse(pattern);
        if (!Enum.IsDefined(behavior))
        {
            throw new ArgumentOutOfRangeException(nameof(behavior), behavior, "Unknown block behavior.");
        }

        lock (_sync)
        {
            Gate? gate = Array.Find(_gates, g => g.Pattern.Equals(parsed));
            if (gate is null)
            {
                gate = new Gate(parsed, _heldCapacity);
                Volatile.Write(ref _gates, [.. _gates, gate]);
            }

            gate.State = state;
            gate.Behavior = behavior;
            Log.GateChanged(_telemetry.Logger, parsed.Value, state == GateState.Blocked ? $"blocked ({behavior})" : "paused");
        }
    }

    /// <summary>Delivers what a resumed gate held, one event at a time, then removes the gate once it is empty.</summary>
    private async Task DrainAsync(Gate gate, CancellationToken stopping)
    {
        while (true)
        {
            Envelope? envelope;
            lock (_sync)
            {
                if (gate.State != GateState.Resuming)
                {
                    gate.Draining = false; // paused or blocked again: what is left stays held
                    return;
                }

                if (!gate.Held.Reader.TryRead(out envelope))
                {
                    gate.Draining = false;
                    gate.Removed = true;
                    Volatile.Write(ref _gates, Array.FindAll(_gates, g => g != gate));
                    Log.GateChanged(_telemetry.Logger, gate.Pattern.Value, "open");
                    return;
                }
            }

            if (!await _releases.DeliverAsync(envelope, gate.Pattern.Value, stopping).ConfigureAwait(false))
            {
                return; // the bus is being disposed: the rest is counted by DropHeld
            }
        }
    }

    /// <summary>One gate: its pattern, state and the events it holds. Guarded by the owner's lock.</summary>
    private sealed class Gate(TopicPattern pattern, int capacity)
    {
        public TopicPattern Pattern { get; } = pattern;

        public GateState State { get; set; }

        public BlockBehavior Behavior { get; set; }

        public bool Draining { get; set; }

        public bool Removed { get; set; }

        public Channel<Envelope> Held { get; } = Channel.CreateBounded<Envelope>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, AllowSynchronousContinuations = false });
    }
}
