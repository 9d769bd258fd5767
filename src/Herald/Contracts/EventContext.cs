namespace Herald;

/// <summary>
/// One event as a consumer sees it: the typed event and its envelope. A small struct, so reading from a
/// subscription allocates nothing.
/// </summary>
/// <typeparam name="TEvent">The event type, or <see cref="object"/> for pattern subscriptions.</typeparam>
public readonly struct EventContext<TEvent>
{
    private readonly int _attempt;

    internal EventContext(Envelope envelope) => Envelope = envelope;

    internal EventContext(Envelope envelope, int attempt)
    {
        Envelope = envelope;
        _attempt = attempt;
    }

    /// <summary>The envelope: id, topic, key, time, trace context and headers.</summary>
    public Envelope Envelope { get; }

    /// <summary>The event.</summary>
    public TEvent Event => (TEvent)Envelope.Data!;

    /// <summary>The topic the event was published to.</summary>
    public string Topic => Envelope.Type;

    /// <summary>The partition/order key given at publish, or null.</summary>
    public string? Key => Envelope.Subject;

    /// <summary>The event id.</summary>
    public string Id => Envelope.Id;

    /// <summary>When the event was published.</summary>
    public DateTimeOffset Time => Envelope.Time;

    /// <summary>The delivery attempt, 1 for the first; in a handler, retries count up from there.</summary>
    public int Attempt => _attempt > 0 ? _attempt : Envelope.Attempt;

    /// <summary>The correlation id given at publish, or null.</summary>
    public string? CorrelationId => Envelope.CorrelationId;

    /// <summary>The free headers given at publish.</summary>
    public IReadOnlyDictionary<string, string> Headers => Envelope.Headers;

    /// <inheritdoc />
    public override string ToString() => Envelope?.ToString() ?? "(empty)";
}
