using System.Buffers;
using System.Collections.Frozen;

namespace Herald;

/// <summary>
/// An event with its metadata, shaped after CloudEvents 1.0 so other tools can read it: <c>id</c>, <c>source</c>,
/// <c>type</c> (the topic), <c>specversion</c>, <c>time</c>, <c>subject</c> (the partition/order key),
/// <c>datacontenttype</c>, <c>dataschema</c>, plus Herald's extensions (<c>traceparent</c>, <c>tracestate</c>,
/// <c>correlationid</c>, <c>causationid</c>, <c>attempt</c>) and free <see cref="Headers"/>.
/// </summary>
/// <remarks>
/// In process the event object travels as it is in <see cref="Data"/>: nothing is serialized. After crossing a
/// process boundary the payload is kept as bytes in <see cref="EncodedData"/> and decoded only when asked, so
/// routing and dead-lettering never need the event's CLR type.
/// </remarks>
public sealed class Envelope
{
    /// <summary>Names that <see cref="Headers"/> may not use, because CloudEvents or Herald already define them.</summary>
    internal static readonly FrozenSet<string> ReservedNames = FrozenSet.Create(
        StringComparer.Ordinal,
        "id", "source", "specversion", "type", "time", "subject", "datacontenttype", "dataschema", "data", "data_base64",
        "traceparent", "tracestate", "correlationid", "causationid", "attempt");

    private static readonly SearchValues<char> HeaderNameChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789");

    internal static readonly IReadOnlyDictionary<string, string> NoHeaders = FrozenDictionary<string, string>.Empty;

    private string? _id;

    // Herald's own id as a UUID, before (or besides) its text: the inbox keys on it without formatting and parsing the
    // text. Empty when the id was given as text (a foreign producer's, a stored event's).
    private Guid _uuid;

    // The attributes most in-process events never set live in a side object made on first use, so the common
    // envelope is the hot fields only (112 bytes on 64-bit) and the publish path allocates no more than that.
    private Attributes? _more;

    /// <summary>Creates an envelope for <paramref name="data"/> published to <paramref name="type"/> at <paramref name="time"/>.</summary>
    /// <param name="type">The topic, e.g. <c>user.created</c>; it must follow the topic grammar.</param>
    /// <param name="data">The event object, or null for an event without payload.</param>
    /// <param name="time">When the event happened; the id (a UUIDv7) is derived from it.</param>
    /// <exception cref="InvalidTopicException"><paramref name="type"/> breaks the topic grammar.</exception>
    public Envelope(string type, object? data, DateTimeOffset time)
    {
        Topic.Validate(type);
        Type = type;
        Data = data;
        Time = time;
    }

    /// <summary>The trusted constructor of the publish path: the topic is already known to be valid.</summary>
    internal Envelope(string type, object? data, DateTimeOffset time, bool topicChecked)
    {
        System.Diagnostics.Debug.Assert(topicChecked && Topic.IsValid(type), "the caller checked the topic");
        Type = type;
        Data = data;
        Time = time;
    }

    /// <summary>The publish path's constructor: the topic is checked and the id is <paramref name="uuid"/> (its text made on first read).</summary>
    internal Envelope(string type, object? data, DateTimeOffset time, Guid uuid)
        : this(type, data, time, topicChecked: true) => _uuid = uuid;

    /// <summary>The event id: a UUIDv7 (time-ordered) for events Herald creates, or the id a foreign producer chose.</summary>
    public string Id
    {
        // Text made on first read (most in-process deliveries never read it); the first value made wins, so every reader sees one id.
        get => _id ?? Interlocked.CompareExchange(ref _id, (_uuid == Guid.Empty ? UuidV7.New(Time) : _uuid).ToString(), null) ?? _id;
        init
        {
            ArgumentException.ThrowIfNullOrEmpty(value);
            _id = value;
            _uuid = Guid.Empty;
        }
    }

    /// <summary>The id as a UUID when Herald made it (no text needed); false for an id given as text.</summary>
    internal bool TryGetUuid(out Guid uuid)
    {
        uuid = _uuid;
        return uuid != Guid.Empty;
    }

    /// <summary>The CloudEvents version this envelope follows: always <c>1.0</c>.</summary>
#pragma warning disable CA1822 // part of the CloudEvents shape, read like the other attributes
    public string SpecVersion => "1.0";
#pragma warning restore CA1822

    /// <summary>The CloudEvents <c>source</c>: a URI reference naming the producer, e.g. <c>urn:herald:registration</c>.</summary>
    public string Source { get; init; } = "urn:herald";

    /// <summary>The CloudEvents <c>type</c>: the topic, e.g. <c>user.created</c>.</summary>
    public string Type { get; }

    /// <summary>The CloudEvents <c>time</c>: when the event was published.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>The CloudEvents <c>subject</c>: the partition/order key. Events with the same key are delivered in order.</summary>
    public string? Subject { get; init; }

    /// <summary>The CloudEvents <c>datacontenttype</c> of <see cref="EncodedData"/>, e.g. <c>application/json</c>; null in process.</summary>
    public string? DataContentType
    {
        get => _more?.DataContentType;
        init => More(value)?.DataContentType = value;
    }

    /// <summary>The CloudEvents <c>dataschema</c>: a URI naming the schema (version) of the payload.</summary>
    public string? DataSchema { get; init; }

    /// <summary>The W3C trace context <c>traceparent</c> of the publishing activity.</summary>
    public string? TraceParent
    {
        get => _more?.TraceParent;
        init => More(value)?.TraceParent = value;
    }

    /// <summary>The W3C trace context <c>tracestate</c>.</summary>
    public string? TraceState
    {
        get => _more?.TraceState;
        init => More(value)?.TraceState = value;
    }

    /// <summary>Herald extension <c>correlationid</c>: ties together every event of one business flow.</summary>
    public string? CorrelationId
    {
        get => _more?.CorrelationId;
        init => More(value)?.CorrelationId = value;
    }

    /// <summary>Herald extension <c>causationid</c>: the id of the event that caused this one.</summary>
    public string? CausationId
    {
        get => _more?.CausationId;
        init => More(value)?.CausationId = value;
    }

    /// <summary>Herald extension <c>attempt</c>: the delivery attempt, 1 for the first.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>
    /// Free headers, carried as CloudEvents extension attributes: names are lowercase ASCII letters and digits and may
    /// not reuse a CloudEvents or Herald attribute name.
    /// </summary>
    public IReadOnlyDictionary<string, string> Headers
    {
        get => _more?.Headers ?? NoHeaders;
        init => More(value is { Count: > 0 } ? value : null)?.Headers = value;
    }

    /// <summary>The event object, when the envelope has not crossed a process boundary (or was decoded).</summary>
    public object? Data { get; init; }

    /// <summary>The serialized payload, when the envelope came across a process boundary; empty in process.</summary>
    public ReadOnlyMemory<byte> EncodedData
    {
        get => _more?.EncodedData ?? ReadOnlyMemory<byte>.Empty;
        init => More(value.IsEmpty ? null : Array.Empty<byte>())?.EncodedData = value;
    }

    /// <summary>
    /// An envelope for bytes that are not a CloudEvent Herald can read: their topic when it is one (else
    /// <c>herald.undecodable</c>), the bytes as an octet-stream payload, and the decoding error in a header when given.
    /// Its id is made from the bytes (a SHA-256 prefix as a UUID), so every read of the same bytes shows the same id and
    /// a link to it keeps working.
    /// </summary>
    internal static Envelope Undecodable(string? topic, byte[] bytes, DateTimeOffset time, string? error = null) =>
        new(Topic.IsValid(topic) ? topic! : "herald.undecodable", null, time, topicChecked: true)
        {
            Id = new Guid(System.Security.Cryptography.SHA256.HashData(bytes).AsSpan(0, 16)).ToString(),
            EncodedData = bytes,
            DataContentType = "application/octet-stream",
            Headers = error is null ? NoHeaders : new Dictionary<string, string> { ["herald-decode-error"] = error },
        };

    /// <summary>
    /// A copy of this envelope for another delivery attempt: the same id, attributes and payload, with
    /// <see cref="Attempt"/> set (a transport redelivering a refused delivery passes <c>Attempt + 1</c>).
    /// </summary>
    /// <param name="attempt">The attempt number, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="attempt"/> is below 1.</exception>
    public Envelope WithAttempt(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        return Copy(Data, attempt);
    }

    /// <summary>
    /// A copy of this envelope carrying <paramref name="data"/>: a transport that carries payloads as bytes hands its
    /// readers the payload decoded to their type this way.
    /// </summary>
    /// <param name="data">The decoded event object.</param>
    public Envelope WithData(object? data) => Copy(data, Attempt);

    /// <summary>
    /// A copy carrying <paramref name="data"/>, an upcast of this envelope's event, labelled with the newer version's
    /// <paramref name="dataSchema"/> and without the older payload's bytes and content type: written again (a retry, a
    /// dead letter), it is the newer version, consistently.
    /// </summary>
    internal Envelope WithUpcast(object data, string? dataSchema) => new(Type, data, Time, topicChecked: true)
    {
        _id = _uuid == Guid.Empty ? Id : _id,
        _uuid = _uuid,
        _more = _more is null ? null : new Attributes
        {
            TraceParent = _more.TraceParent,
            TraceState = _more.TraceState,
            CorrelationId = _more.CorrelationId,
            CausationId = _more.CausationId,
            Headers = _more.Headers,
        },
        Source = Source,
        Subject = Subject,
        DataSchema = dataSchema,
        Attempt = Attempt,
    };

    private Envelope Copy(object? data, int attempt) => new(Type, data, Time, topicChecked: true)
    {
        _id = _uuid == Guid.Empty ? Id : _id, // the same id: its text, or the UUID the text is made from
        _uuid = _uuid,
        _more = _more,
        Source = Source,
        Subject = Subject,
        DataSchema = DataSchema,
        Attempt = attempt,
    };

    /// <summary>The side object for rarely-set attributes, made when a non-null value is first set; null otherwise.</summary>
    private Attributes? More(object? value) => value is null ? null : _more ??= new Attributes();

    /// <summary>Attributes most in-process events leave unset. Written only while the envelope is initialised.</summary>
    private sealed class Attributes
    {
        public string? DataContentType { get; set; }

        public string? TraceParent { get; set; }

        public string? TraceState { get; set; }

        public string? CorrelationId { get; set; }

        public string? CausationId { get; set; }

        public IReadOnlyDictionary<string, string>? Headers { get; set; }

        public ReadOnlyMemory<byte> EncodedData { get; set; }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Type} {Id}" + (Subject is null ? string.Empty : $" key={Subject}");

    /// <summary>Throws an <see cref="ArgumentException"/> naming the header when a header name or value cannot be carried.</summary>
    internal static void ValidateHeaders(IReadOnlyDictionary<string, string> headers)
    {
        foreach (KeyValuePair<string, string> header in headers)
        {
            string name = header.Key;
            if (string.IsNullOrEmpty(name) || name.AsSpan().ContainsAnyExcept(HeaderNameChars))
            {
                throw new ArgumentException(
                    $"Header name '{name}' is not allowed: header names are CloudEvents extension names, lowercase ASCII letters and digits only (e.g. 'tenant').",
                    nameof(headers));
            }

            if (ReservedNames.Contains(name))
            {
                throw new ArgumentException(
                    $"Header name '{name}' is reserved: it is a CloudEvents or Herald attribute; set it through PublishOptions or choose another name.",
                    nameof(headers));
            }

            if (header.Value is null)
            {
                throw new ArgumentException($"Header '{name}' has a null value; header values are strings.", nameof(headers));
            }
        }
    }
}
