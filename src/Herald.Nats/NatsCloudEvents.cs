using System.Buffers;
using System.Globalization;
using System.Text;
using NATS.Client.Core;

namespace Herald.Nats;

/// <summary>
/// CloudEvents on NATS (the CloudEvents NATS protocol binding): binary mode on the way out, the payload as the message
/// body and every attribute and extension a <c>ce-{name}</c> header (<c>datacontenttype</c> included, as the binding
/// says), values percent-encoded where the binding requires (space, <c>"</c>, <c>%</c>, anything outside printable
/// ASCII). On the way in, structured mode too: a <c>Content-Type</c> of <c>application/cloudevents…</c> means the body
/// is the JSON event format. See docs/nats.md.
/// </summary>
internal static class NatsCloudEvents
{
    /// <summary>The header prefix of the binding (header names are case-insensitive).</summary>
    public const string Prefix = "ce-";

    /// <summary>The characters a header value carries as they are: printable ASCII but space, <c>"</c> and <c>%</c>.</summary>
    private static readonly SearchValues<char> Plain = SearchValues.Create("!#$&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>The message of <paramref name="envelope"/>: headers (fresh, one per publish) and body.</summary>
    public static (NatsHeaders Headers, ReadOnlyMemory<byte> Body) Encode(Envelope envelope, IEventSerializer serializer)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        (ReadOnlyMemory<byte> body, string? contentType) = EnvelopePayload.Encode(envelope, serializer);
        // Sized for what follows (the attributes, the extensions, and the Nats-Msg-Id the client adds): no regrowth.
        var headers = new NatsHeaders(12 + envelope.Headers.Count)
        {
            [Prefix + "specversion"] = envelope.SpecVersion,
            [Prefix + "id"] = Escape(envelope.Id),
            [Prefix + "source"] = Escape(envelope.Source),
            [Prefix + "type"] = envelope.Type,
            [Prefix + "time"] = envelope.Time.ToString(EnvelopePayload.TimeFormat, CultureInfo.InvariantCulture),
        };
        if (envelope.Attempt > 1)
        {
            headers[Prefix + "attempt"] = envelope.Attempt.ToString(CultureInfo.InvariantCulture);
        }

        Optional(headers, "subject", envelope.Subject);
        Optional(headers, "dataschema", envelope.DataSchema);
        Optional(headers, "datacontenttype", contentType);
        Optional(headers, "traceparent", envelope.TraceParent);
        Optional(headers, "tracestate", envelope.TraceState);
        Optional(headers, "correlationid", envelope.CorrelationId);
        Optional(headers, "causationid", envelope.CausationId);
        foreach (KeyValuePair<string, string> header in envelope.Headers)
        {
            headers[Prefix + header.Key] = Escape(header.Value);
        }

        return (headers, body);
    }

    /// <summary>Reads an envelope from a message published by Herald or by any CloudEvents NATS producer (binary or structured mode).</summary>
    /// <param name="headers">The message's headers (null when it has none).</param>
    /// <param name="body">The payload.</param>
    /// <param name="receivedAt">The time to use when the event carries none (CloudEvents <c>time</c> is optional).</param>
    /// <exception cref="EventDecodingException">The message is not a CloudEvent, or an attribute is missing or malformed; the message says which.</exception>
    public static Envelope Decode(NatsHeaders? headers, ReadOnlyMemory<byte> body, DateTimeOffset receivedAt)
    {
        if (headers is not null && headers.TryGetValue("Content-Type", out var contentType)
            && contentType.ToString().StartsWith("application/cloudevents", StringComparison.OrdinalIgnoreCase))
        {
            if (contentType.ToString().StartsWith("application/cloudevents-batch", StringComparison.OrdinalIgnoreCase))
            {
                throw new EventDecodingException("The NATS message is a CloudEvents batch (application/cloudevents-batch+json); Herald reads one event per message.");
            }

            return CloudEventJsonFormatter.Decode(body.Span); // structured mode: the JSON event format
        }

        try
        {
            return DecodeBinary(headers, body, receivedAt);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException && ex is not EventDecodingException)
        {
            throw new EventDecodingException($"The NATS message's CloudEvents attributes are malformed: {ex.Message}", ex);
        }
    }

    private static Envelope DecodeBinary(NatsHeaders? headers, ReadOnlyMemory<byte> body, DateTimeOffset receivedAt)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in headers ?? [])
        {
            if (header.Key.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            {
                string name = header.Key[Prefix.Length..].ToLowerInvariant();
                if (header.Value.Count > 1)
                {
                    throw new EventDecodingException($"The CloudEvents header '{header.Key}' appears {header.Value.Count} times; an attribute has one value.");
                }

                attributes[name] = Unescape(header.Value.ToString(), header.Key);
            }
        }

        return CloudEventAttributes.ToEnvelope(
            attributes,
            name => Prefix + name,
            "The NATS message is not a CloudEvent: it has no ce-specversion header (nor Content-Type application/cloudevents+json).",
            body,
            CloudEventAttributes.Take(attributes, "datacontenttype"),
            receivedAt);
    }

    /// <summary>Percent-encodes what the binding requires: space, <c>"</c>, <c>%</c>, and every character outside printable ASCII (as UTF-8 bytes).</summary>
    public static string Escape(string value)
    {
        if (!value.AsSpan().ContainsAnyExcept(Plain))
        {
            return value;
        }

        var text = new StringBuilder(value.Length + 16);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c is > ' ' and <= '~' and not '"' and not '%')
            {
                text.Append(c);
                continue;
            }

            int length = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                ? Encoding.UTF8.GetBytes(value.AsSpan(i++, 2), utf8)
                : Encoding.UTF8.GetBytes(char.IsSurrogate(c) ? "\uFFFD" : c.ToString(), utf8);
            foreach (byte b in utf8[..length])
            {
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    /// <summary>Decodes percent-encoding (either case), refusing invalid UTF-8; a double-quoted value is unquoted first.</summary>
    public static string Unescape(string value, string header)
    {
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            value = Unquote(value[1..^1]);
        }

        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var bytes = new List<byte>(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] == '%')
            {
                if (i + 2 >= value.Length || !byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
                {
                    throw new EventDecodingException($"The CloudEvents header '{header}' has a '%' that does not start a percent-encoded byte.");
                }

                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(value[i].ToString()));
            }
        }

        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString([.. bytes]);
        }
        catch (DecoderFallbackException ex)
        {
            throw new EventDecodingException($"The CloudEvents header '{header}' percent-encodes bytes that are not UTF-8.", ex);
        }
    }

    private static string Unquote(string quoted)
    {
        var text = new StringBuilder(quoted.Length);
        for (int i = 0; i < quoted.Length; i++)
        {
            text.Append(quoted[i] == '\\' && i + 1 < quoted.Length ? quoted[++i] : quoted[i]);
        }

        return text.ToString();
    }

    private static void Optional(NatsHeaders headers, string name, string? value)
    {
        if (value is not null)
        {
            headers[Prefix + name] = Escape(value);
        }
    }
}
