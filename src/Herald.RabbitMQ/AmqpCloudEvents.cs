using System.Globalization;
using System.Text;
using RabbitMQ.Client;

namespace Herald.RabbitMQ;

/// <summary>
/// CloudEvents in AMQP binary content mode, mapped onto AMQP 0-9-1: the payload is the message body, the
/// <c>datacontenttype</c> is the <c>content_type</c> property, and every other attribute and extension is a header
/// named <c>cloudEvents_{name}</c> (the current binding's prefix; the older <c>cloudEvents:</c> is accepted on the way
/// in). <c>id</c> is also the <c>message_id</c> property and <c>time</c> the <c>timestamp</c> property (whole seconds,
/// for tools that show them); the headers carry the exact values. See docs/rabbitmq.md.
/// </summary>
internal static class AmqpCloudEvents
{
    /// <summary>The header prefix Herald writes (the CloudEvents AMQP binding's current one).</summary>
    public const string Prefix = "cloudEvents_";

    /// <summary>The older prefix, accepted from other producers.</summary>
    public const string LegacyPrefix = "cloudEvents:";

    /// <summary>Makes the message of <paramref name="envelope"/>: properties (with the headers) and body.</summary>
    public static (BasicProperties Properties, ReadOnlyMemory<byte> Body) Encode(Envelope envelope, IEventSerializer serializer)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(serializer);
        (ReadOnlyMemory<byte> body, string? contentType) = EnvelopePayload.Encode(envelope, serializer);

        // Sized for what follows (attributes, optional ones, extensions): no regrowth per publish (it showed in a profile).
        var headers = new Dictionary<string, object?>(12 + envelope.Headers.Count, StringComparer.Ordinal)
        {
            [Prefix + "specversion"] = envelope.SpecVersion,
            [Prefix + "id"] = envelope.Id,
            [Prefix + "source"] = envelope.Source,
            [Prefix + "type"] = envelope.Type,
            [Prefix + "time"] = envelope.Time.ToString(EnvelopePayload.TimeFormat, CultureInfo.InvariantCulture),
        };
        if (envelope.Attempt > 1)
        {
            headers[Prefix + "attempt"] = envelope.Attempt; // the first attempt is the default: one header less per message
        }

        Optional(headers, "subject", envelope.Subject);
        Optional(headers, "dataschema", envelope.DataSchema);
        Optional(headers, "traceparent", envelope.TraceParent);
        Optional(headers, "tracestate", envelope.TraceState);
        Optional(headers, "correlationid", envelope.CorrelationId);
        Optional(headers, "causationid", envelope.CausationId);
        foreach (KeyValuePair<string, string> header in envelope.Headers)
        {
            headers[Prefix + header.Key] = header.Value;
        }

        var properties = new BasicProperties
        {
            MessageId = envelope.Id,
            Timestamp = new AmqpTimestamp(envelope.Time.ToUnixTimeSeconds()),
            ContentType = contentType,
            Persistent = true,
            Headers = headers,
        };
        return (properties, body);
    }

    /// <summary>Reads an envelope from a message published by Herald or by any CloudEvents AMQP producer.</summary>
    /// <param name="properties">The message's properties and headers.</param>
    /// <param name="body">The payload.</param>
    /// <param name="receivedAt">The time to use when the event carries none (CloudEvents <c>time</c> is optional).</param>
    /// <exception cref="EventDecodingException">A required attribute is missing or invalid; the message says which.</exception>
    public static Envelope Decode(IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(properties);
        try
        {
            return DecodeAttributes(properties, body, receivedAt);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException && ex is not EventDecodingException)
        {
            // An attribute that passed the checks above but not the envelope's own (an empty id, an AMQP timestamp out of
            // DateTimeOffset's range): the message is malformed all the same, and must be dead-lettered, not stall a consumer.
            throw new EventDecodingException($"The AMQP message's CloudEvents attributes are malformed: {ex.Message}", ex);
        }
    }

    private static Envelope DecodeAttributes(IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, DateTimeOffset receivedAt)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (properties.Headers is { } headers)
        {
            foreach (KeyValuePair<string, object?> header in headers)
            {
                string? name = header.Key.StartsWith(Prefix, StringComparison.Ordinal) ? header.Key[Prefix.Length..]
                    : header.Key.StartsWith(LegacyPrefix, StringComparison.Ordinal) ? header.Key[LegacyPrefix.Length..]
                    : null; // not a CloudEvents attribute (e.g. the broker's x-death): transport metadata
                if (name is not null && header.Value is not null)
                {
                    attributes[name] = Text(header.Value, header.Key);
                }
            }
        }

        // The content_type property says it in binary mode; an attribute of the same name is ignored.
        attributes.Remove("datacontenttype");
        return CloudEventAttributes.ToEnvelope(
            attributes,
            name => Prefix + name,
            "The AMQP message is not a CloudEvent: it has no cloudEvents_specversion header.",
            body,
            properties.ContentType,
            receivedAt,
            fallbackId: (properties.MessageId, "message_id"),
            fallbackTime: properties.IsTimestampPresent() ? DateTimeOffset.FromUnixTimeSeconds(properties.Timestamp.UnixTime) : null);
    }

    private static void Optional(Dictionary<string, object?> headers, string name, string? value)
    {
        if (value is not null)
        {
            headers[Prefix + name] = value;
        }
    }

    /// <summary>Header values arrive as bytes (AMQP long strings), or as numbers and booleans from other clients.</summary>
    private static string Text(object value, string header) => value switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        bool flag => flag ? "true" : "false",
        _ => throw new EventDecodingException($"The CloudEvents header '{header}' holds a {value.GetType().Name}, not a string."),
    };
}
