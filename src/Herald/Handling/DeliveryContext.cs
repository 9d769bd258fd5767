using Microsoft.Extensions.DependencyInjection;

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
    private readonly IServiceScopeFactory? _scopes;
    private Dictionary<string, object?>? _items;
    private IServiceProvider? _services;
    private AsyncServiceScope? _scope;

    /// <summary>A context whose services are <paramref name="services"/> as they are, or (when null) a scope per delivery from <paramref name="scopes"/>.</summary>
    internal DeliveryContext(Envelope envelope, HandlerDescriptor handler, IServiceProvider? services, TimeProvider timeProvider, CancellationToken stopping, IServiceScopeFactory? scopes = null)
    {
        Envelope = envelope;
        Handler = handler;
        _services = services;
        _scopes = scopes;
        TimeProvider = timeProvider;
        Stopping = stopping;
        CancellationToken = stopping;
        Attempt = envelope.Attempt;
    }

    /// <summary>The envelope delivered.</summary>
    public Envelope Envelope { get; private set; }

    /// <summary>The handler this delivery is for.</summary>
    public HandlerDescriptor Handler { get; }

    /// <summary>
    /// The DI scope of this delivery, made on first use: a delivery whose handler needs no scoped service (its
    /// constructor takes singletons only) and whose steps never ask makes none. Disposed when the delivery ends.
    /// </summary>
    public IServiceProvider Services => _services ??= OpenScope();

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

    /// <summary>
    /// Makes the handler when it needs no scope (see <see cref="ScopeFreeHandlers.ActivatorFor"/>); null to resolve it
    /// from <see cref="Services"/>.
    /// </summary>
    internal Func<object>? MakeHandler { get; init; }

    /// <summary>The consumer the delivery came from (the retry step asks whether it stores retries durably).</summary>
    internal Transport.IConsumer? Consumer { get; init; }

    /// <summary>When the retry step asked for the next attempt (outcome <see cref="DeliveryOutcome.Rescheduled"/>): stored by the consumer loop after the pipeline.</summary>
    internal DateTimeOffset? RedeliverAt { get; set; }

    /// <summary>Makes this context the context of the next delivery of the same loop.</summary>
    internal void Reset(Envelope envelope, IServiceProvider? services = null)
    {
        Envelope = envelope;
        _services = services;
        CancellationToken = Stopping;
        Attempt = envelope.Attempt;
        Outcome = DeliveryOutcome.Pending;
        Exception = null;
        FailureReason = null;
        RedeliverAt = null;
        _items?.Clear();
    }

    /// <summary>Disposes the delivery's scope, if it made one.</summary>
    internal ValueTask EndScopeAsync()
    {
        AsyncServiceScope? scope = _scope;
        if (scope is null)
        {
            return ValueTask.CompletedTask;
        }

        _scope = null;
        _services = null;
        return scope.Value.DisposeAsync();
    }

    private IServiceProvider OpenScope()
    {
        if (_scopes is null)
        {
            throw new InvalidOperationException("This delivery context has no services.");
        }

        AsyncServiceScope scope = _scopes.CreateAsyncScope();
        _scope = scope;
        return scope.ServiceProvider;
    }

    /// <summary>Why the retry step gave up (<c>attempts-exhausted</c>, <c>not-retryable</c>), for the dead letter.</summary>
    internal string? FailureReason { get; set; }

    /// <inheritdoc />
    public override string ToString() => $"{Envelope} -> {Handler.Name} (attempt {Attempt}, {Outcome})";
}
