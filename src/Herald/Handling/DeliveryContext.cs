namespace Herald;

/// <summary>
/// One delivery to one handler, as it flows through the pipeline. Middleware reads the envelope and the handler,
/// may replace <see cref="CancellationToken"/> for the steps inside it, and may keep data in <see cref="Items"/>.
/// </summary>
/// <remarks>
/// A context is valid only while its delivery runs: each delivery loop reuses one context for its deliveries (as
/// ASP.NET Core reuses <c>HttpContext</c>), so do not keep it, or hand it to work that outlives the delivery.
/// </remarks>
public sealed class DeliveryContext
{
    private Dictionary<string, object?>? _items;

    internal DeliveryContext(Envelope envelope, HandlerDescriptor handler, IServiceProvider services, TimeProvider timeProvider, CancellationToken stopping)
    {
        Envelope = envelope;
        Handler = handler;
        Services = services;
        TimeProvider = timeProvider;
        Stopping = stopping;
        CancellationToken = stopping;
        Attempt = envelope.Attempt;
    }

    /// <summary>The envelope delivered.</summary>
    public Envelope Envelope { get; private set; }

    /// <summary>The handler this delivery is for.</summary>
    public HandlerDescriptor Handler { get; }

    /// <summary>The DI scope of this delivery.</summary>
    public IServiceProvider Services { get; private set; }

    /// <summary>The clock the pipeline uses.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Fires when the host stops and in-flight work must be abandoned. A cancellation caused by it is not a failure.</summary>
    public CancellationToken Stopping { get; }

    /// <summary>The token the steps inside (and the handler) observe; the timeout step narrows it per attempt.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>The current attempt, 1 for the first (counting earlier redeliveries of the envelope).</summary>
    public int Attempt { get; set; }

    /// <summary>How the delivery ended; <see cref="DeliveryOutcome.Pending"/> until then.</summary>
    public DeliveryOutcome Outcome { get; set; }

    /// <summary>The exception of the last failed attempt, if any.</summary>
    public Exception? Exception { get; set; }

    /// <summary>Free per-delivery storage for middleware.</summary>
    public IDictionary<string, object?> Items => _items ??= new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>The delivery loop's attempt-timeout watchdog; null outside a delivery loop.</summary>
    internal Handling.AttemptTimeouts? Timeouts { get; init; }

    /// <summary>The consumer the delivery came from (the retry step asks whether it stores retries durably).</summary>
    internal Transport.IConsumer? Consumer { get; init; }

    /// <summary>When the retry step asked for the next attempt (outcome <see cref="DeliveryOutcome.Rescheduled"/>): stored by the consumer loop after the pipeline.</summary>
    internal DateTimeOffset? RedeliverAt { get; set; }

    /// <summary>Makes this context the context of the next delivery of the same loop.</summary>
    internal void Reset(Envelope envelope, IServiceProvider services)
    {
        Envelope = envelope;
        Services = services;
        CancellationToken = Stopping;
        Attempt = envelope.Attempt;
        Outcome = DeliveryOutcome.Pending;
        Exception = null;
        FailureReason = null;
        RedeliverAt = null;
        _items?.Clear();
    }

    /// <summary>Why the retry step gave up (<c>attempts-exhausted</c>, <c>not-retryable</c>), for the dead letter.</summary>
    internal string? FailureReason { get; set; }

    /// <inheritdoc />
    public override string ToString() => $"{Envelope} -> {Handler.Name} (attempt {Attempt}, {Outcome})";
}
