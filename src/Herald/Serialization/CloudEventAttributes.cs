using System.Globalization;

namespace Herald;

/// <summary>
/// The envelope of a CloudEvent read in binary content mode, from its attributes as a transport's headers carried them
/// (names without the binding's prefix, values as text): the checks every binding makes, once. A missing or invalid
/// required attribute is an <see cref="EventDecodingException"/> naming it as the binding spells it.
/// </summary>
internal static class CloudEventAttributes
{
    /// <summary>Builds the envelope; takes the attributes it uses out of <paramref name="attributes"/>, the rest become its extensions (headers).</summary>
    /// <param name="attributes">The attributes by name (<c>specversion</c>, <c>type</c>, ...); consumed.</param>
    /// <param name="header">How the binding names an attribute's header (<c>ce-type</c>, <c>cloudEvents_type</c>), for messages.</param>
    /// <param name="notACloudEvent">The message when there is no <c>specversion</c>.</param>
    /// <param name="body">The payload.</param>
    /// <param name="dataContentType">The payload's content type, as the binding carries it.</param>
    /// <param name="receivedAt">The time to use when the event carries none (<c>time</c> is optional).</param>
    /// <param name="fallbackId">An id the transport carries besides the attribute (AMQP's <c>message_id</c>), with how it is named.</param>
    /// <param name="fallbackTime">A time the transport carries besides the attribute (AMQP's <c>timestamp</c>).</param>
    public static Envelope ToEnvelope(
        Dictionary<string, string> attributes,
        Func<string, string> header,
        string notACloudEvent,
        ReadOnlyMemory<byte> body,
        string? dataContentType,
        DateTimeOffset receivedAt,
        (string? Value, string Name)? fallbackId = null,
        DateTimeOffset? fallbackTime = null)
    {
        string specVersion = Take(attributes, "specversion") ?? throw new EventDecodingException(notACloudEvent);
        if (specVersion != "1.0")
        {
            throw new EventDecodingException($"CloudEvents specversion '{specVersion}' is not supported; Herald reads 1.0.");
        }

        string type = Take(attributes, "type") ?? throw new EventDecodingException($"The CloudEvent has no type (header {header("type")}): Herald needs it as the topic.");
        if (Topic.Explain(type) is { } problem)
        {
            throw new EventDecodingException($"The CloudEvent's type is not a Herald topic: {problem}");
        }

        string idHeader = fallbackId is { Name: var fallbackName } ? $"header {header("id")} or {fallbackName}" : $"header {header("id")}";
        string id = Take(attributes, "id") ?? fallbackId?.Value ?? throw new EventDecodingException($"The CloudEvent '{type}' has no id ({idHeader}).");
        if (id.Length == 0)
        {
            throw new EventDecodingException($"The CloudEvent '{type}' has an empty id ({idHeader}); CloudEvents requires a non-empty id.");
        }

        string source = Take(attributes, "source") ?? throw new EventDecodingException($"The CloudEvent '{type}' {id} has no source (header {header("source")}).");
        DateTimeOffset time = Take(attributes, "time") is { } timeText
            ? DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTimeOffset parsed)
                ? parsed
                : throw new EventDecodingException($"The CloudEvent '{type}' {id} has a time '{timeText}' that is not an RFC 3339 timestamp.")
            : fallbackTime ?? receivedAt;
        int attempt = Take(attributes, "attempt") is { } attemptText && int.TryParse(attemptText, CultureInfo.InvariantCulture, out int a) && a > 0 ? a : 1;
        string? subject = Take(attributes, "subject");
        string? dataSchema = Take(attributes, "dataschema");
        string? traceParent = Take(attributes, "traceparent");
        string? traceState = Take(attributes, "tracestate");
        string? correlationId = Take(attributes, "correlationid");
        string? causationId = Take(attributes, "causationid");
        foreach (string name in attributes.Keys)
        {
            if (name.Length == 0 || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9')))
            {
                throw new EventDecodingException($"The CloudEvent '{type}' {id} carries an extension '{name}' whose name is not lowercase letters and digits.");
            }
        }

        return new Envelope(type, data: null, time)
        {
            Id = id,
            Source = source,
            Subject = subject,
            DataSchema = dataSchema,
            DataContentType = dataContentType,
            TraceParent = traceParent,
            TraceState = traceState,
            CorrelationId = correlationId,
            CausationId = causationId,
            Attempt = attempt,
            Headers = attributes,
            EncodedData = body,
        };
    }

    /// <summary>Takes one attribute out of <paramref name="attributes"/>, or null.</summary>
    public static string? Take(Dictionary<string, string> attributes, string name) =>
        attributes.Remove(name, out string? value) ? value : null;
}
