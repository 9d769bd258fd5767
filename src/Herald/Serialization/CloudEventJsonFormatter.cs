using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Herald;

/// <summary>
/// Writes and reads envelopes in CloudEvents 1.0 structured JSON mode (<c>application/cloudevents+json</c>):
/// one JSON object holding the attributes, the extensions and the data (<c>data</c> for JSON payloads,
/// <c>data_base64</c> for any other content type).
/// </summary>
/// <param name="serializer">Serializes the event objects of envelopes that carry no encoded payload yet.</param>
public sealed class CloudEventJsonFormatter(IEventSerializer serializer)
{
    /// <summary>The media type of a structured CloudEvent in JSON.</summary>
    public const string MediaType = "application/cloudevents+json";

    private readonly IEventSerializer _serializer = serializer ?? throw new ArgumentNullException(nameof(serializer));

    /// <summary>Encodes <paramref name="envelope"/> as a structured CloudEvent.</summary>
    public byte[] Encode(Envelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArrayBufferWriter<byte> output = ScratchBuffers.Rent();
        try
        {
            Encode(envelope, output);
            return output.WrittenSpan.ToArray();
        }
        finally
        {
            ScratchBuffers.Return(output);
        }
    }

    /// <summary>Encodes <paramref name="envelope"/> as a structured CloudEvent into <paramref name="output"/>.</summary>
    public void Encode(Envelope envelope, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(output);

        ArrayBufferWriter<byte> scratch = ScratchBuffers.Rent();
        Utf8JsonWriter? writer = null;
        try
        {
            (ReadOnlyMemory<byte> payload, string? contentType) = EnvelopePayload.Encode(envelope, _serializer, scratch);
            writer = ScratchBuffers.RentWriter(output);
            Write(writer, envelope, payload.Span, contentType);
            writer.Flush();
        }
        finally
        {
            if (writer is not null)
            {
                ScratchBuffers.Return(writer);
            }

            ScratchBuffers.Return(scratch);
        }
    }

    private static void Write(Utf8JsonWriter writer, Envelope envelope, ReadOnlySpan<byte> payload, string? contentType)
    {
        writer.WriteStartObject();
        writer.WriteString("specversion", envelope.SpecVersion);
        writer.WriteString("id", envelope.Id);
        writer.WriteString("source", envelope.Source);
        writer.WriteString("type", envelope.Type);
        Span<char> time = stackalloc char[40];
        writer.WriteString("time", envelope.Time.TryFormat(time, out int length, EnvelopePayload.TimeFormat, CultureInfo.InvariantCulture)
            ? time[..length]
            : envelope.Time.ToString(EnvelopePayload.TimeFormat, CultureInfo.InvariantCulture));
        WriteOptional(writer, "subject", envelope.Subject);
        WriteOptional(writer, "datacontenttype", contentType);
        WriteOptional(writer, "dataschema", envelope.DataSchema);
        WriteOptional(writer, "traceparent", envelope.TraceParent);
        WriteOptional(writer, "tracestate", envelope.TraceState);
        WriteOptional(writer, "correlationid", envelope.CorrelationId);
        WriteOptional(writer, "causationid", envelope.CausationId);
        writer.WriteNumber("attempt", envelope.Attempt);
        if (envelope.Headers.Count > 0)
        {
            foreach (KeyValuePair<string, string> header in envelope.Headers)
            {
                writer.WriteString(header.Key, header.Value);
            }
        }

        // An empty binary payload is a value (a Protobuf message whose members all hold their defaults): written as an
        // empty data_base64, so that it is read back, not taken for an event without data.
        if (!payload.IsEmpty || (contentType is not null && !IsJson(contentType)))
        {
            if (IsJson(contentType))
            {
                writer.WritePropertyName("data");
                writer.WriteRawValue(payload, skipInputValidation: false);
            }
            else
            {
                writer.WriteBase64String("data_base64", payload);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// How deep a payload's JSON may nest: what a publish accepts (System.Text.Json's default, the <c>herald publish
    /// --data</c> check) is what every reader reads, the envelope around it not counted. 64.
    /// </summary>
    public const int MaxDataDepth = 64;

    /// <summary>
    /// Decodes a structured CloudEvent. The payload stays encoded in <see cref="Envelope.EncodedData"/>; call
    /// <see cref="DecodeData"/> with the expected type to read it.
    /// </summary>
    /// <exception cref="EventDecodingException">The bytes are not a CloudEvents 1.0 JSON object, or a required attribute is missing or invalid.</exception>
    public static Envelope Decode(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            // The payload may nest MaxDataDepth deep, as a publish allows; the envelope around it is one level more.
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDataDepth + 1 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new EventDecodingException($"The bytes are not JSON, so not a structured CloudEvent: {ex.Message}", ex);
        }

        using (document)
        {
            try
            {
                return ReadEnvelope(document.RootElement);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException && ex is not EventDecodingException)
            {
                // JSON that parsed but holds what an attribute cannot be (a string that is not valid UTF-8, an id the
                // envelope refuses): as malformed as bad JSON, and reported the same way.
                throw new EventDecodingException($"The CloudEvent's attributes are malformed: {ex.Message}", ex);
            }
        }
    }

    private static Envelope ReadEnvelope(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new EventDecodingException($"A structured CloudEvent is a JSON object, not {root.ValueKind}.");
        }

        string specVersion = RequiredString(root, "specversion");
        if (specVersion != "1.0")
        {
            throw new EventDecodingException($"CloudEvents specversion '{specVersion}' is not supported; Herald reads 1.0.");
        }

        string type = RequiredString(root, "type", Repeated.Type, out bool seenBefore);
        string? topicProblem = seenBefore ? null : Topic.Explain(type); // the same text as the last event's: checked then
        if (topicProblem is not null)
        {
            _lastRead![(int)Repeated.Type] = null; // kept only once checked
            throw new EventDecodingException($"The CloudEvent's type is not a Herald topic: {topicProblem}");
        }

        DateTimeOffset time = default;
        if (StringAttribute(root, "time") is { } timeValue
            && !timeValue.TryGetDateTimeOffset(out time) // RFC 3339 read in place; other forms through the parser as before
            && !DateTimeOffset.TryParse(timeValue.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out time))
        {
            throw new EventDecodingException($"The CloudEvent's time '{timeValue.GetString()}' is not an RFC 3339 timestamp.");
        }

        string? contentType = OptionalString(root, "datacontenttype", Repeated.ContentType);
        ReadOnlyMemory<byte> payload = ReadOnlyMemory<byte>.Empty;
        if (root.TryGetProperty("data_base64", out JsonElement base64))
        {
            payload = base64.ValueKind == JsonValueKind.String && base64.TryGetBytesFromBase64(out byte[]? bytes)
                ? bytes
                : throw new EventDecodingException("The CloudEvent's data_base64 is not a base64 string.");
        }
        else if (root.TryGetProperty("data", out JsonElement data) && data.ValueKind != JsonValueKind.Null)
        {
            contentType ??= "application/json";
            payload = IsJson(contentType) || data.ValueKind != JsonValueKind.String
                ? RawJson(data)
                : System.Text.Encoding.UTF8.GetBytes(data.GetString()!);
        }

        Dictionary<string, string>? headers = null;
        int attempt = 1;
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (property.NameEquals("attempt"u8))
            {
                attempt = property.Value.TryGetInt32(out int a) && a >= 1
                    ? a
                    : throw new EventDecodingException($"The CloudEvent's attempt '{property.Value}' is not a positive integer.");
            }
            else if (property.Value.ValueKind != JsonValueKind.Null && !IsReserved(property))
            {
                headers ??= new Dictionary<string, string>(StringComparer.Ordinal);
                headers[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
            }
        }

        return new Envelope(type, data: null, time, topicChecked: true)
        {
            Id = RequiredString(root, "id"),
            Source = RequiredString(root, "source", Repeated.Source, out _),
            Time = time,
            Subject = OptionalString(root, "subject"),
            DataContentType = payload.IsEmpty ? contentType : contentType ?? "application/json",
            DataSchema = OptionalString(root, "dataschema", Repeated.DataSchema),
            TraceParent = OptionalString(root, "traceparent"),
            TraceState = OptionalString(root, "tracestate"),
            CorrelationId = OptionalString(root, "correlationid"),
            CausationId = OptionalString(root, "causationid"),
            Attempt = attempt,
            Headers = headers ?? Envelope.NoHeaders,
            EncodedData = payload,
        };
    }

    /// <summary>
    /// For an untyped reader (a pattern handler): the payload as <paramref name="known"/>, the type this process binds to
    /// the topic; null (the event stays undecoded, as for a topic this process has no type for) when the event is a
    /// newer version than that type.
    /// </summary>
    internal object? DecodeUntyped(Envelope envelope, Type known) => EventUpcasters.IsNewerThan(envelope, known) ? null : DecodeData(envelope, known);

    /// <summary>Reads the envelope's payload as <paramref name="type"/>, from <see cref="Envelope.Data"/> or by decoding <see cref="Envelope.EncodedData"/>.</summary>
    /// <exception cref="EventDecodingException">The payload cannot be read as <paramref name="type"/>; the message names the event and the type.</exception>
    public object? DecodeData(Envelope envelope, Type type)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(type);
        if (envelope.Data is not null)
        {
            return type.IsInstanceOfType(envelope.Data)
                ? envelope.Data
                : throw new EventDecodingException($"Event {envelope.Id} on '{envelope.Type}' carries a {envelope.Data.GetType().FullName}, not a {type.FullName}.");
        }

        if (envelope.EncodedData.IsEmpty
            && (IsJson(envelope.DataContentType) || EventSerializers.ReaderFor(envelope.DataContentType, type, _serializer) is null))
        {
            return null; // no data; an empty payload of a format read here (Protobuf's all-defaults message) is a value, read below
        }

        // An older version of the type's event is decoded as that version's type, then upcast (an event newer than the
        // type is refused here, with the reason).
        EventUpcasters.Plan? upcast = EventUpcasters.PlanFor(envelope, type);
        object? decoded = Deserialize(envelope, upcast?.DecodeAs ?? type);
        return upcast is null || decoded is null ? decoded : upcast.Apply(envelope, decoded);
    }

    private object? Deserialize(Envelope envelope, Type type)
    {
        // The payload's content type picks the reader; one no reader here knows is tried with the transport's own, as
        // before formats could be mixed, and a failure then names the content type.
        IEventSerializer? reader = EventSerializers.ReaderFor(envelope.DataContentType, type, _serializer);
        try
        {
            return (reader ?? _serializer).Deserialize(envelope.EncodedData.Span, type);
        }
        catch (EventDecodingException ex)
        {
            string unknown = reader is null
                ? $" Its content type '{envelope.DataContentType}' has no deserializer here, so {_serializer.ContentType} was tried: add one with h.AddDeserializer(...)."
                : string.Empty;
            throw new EventDecodingException($"Event {envelope.Id} on '{envelope.Type}' cannot be decoded: {ex.Message}{unknown}", ex);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The bytes were JSON, but the type refused them (its constructor or a setter threw, a converter failed):
            // as much a poison event as malformed bytes, and it must be dead-lettered, not stop the consumer.
            throw new EventDecodingException(
                $"Event {envelope.Id} on '{envelope.Type}' cannot be decoded as {type.FullName}: the type threw {ex.GetType().Name} while being built ({ex.Message}).", ex);
        }
    }

    private static bool IsJson(string? contentType) =>
        contentType is null
        || contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
        || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase);

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static string RequiredString(JsonElement root, string name) => Required(OptionalString(root, name), name);

    private static string RequiredString(JsonElement root, string name, Repeated slot, out bool seenBefore) =>
        Required(OptionalString(root, name, slot, out seenBefore), name);

    private static string Required(string? value, string name) =>
        value is { Length: > 0 }
            ? value
            : throw new EventDecodingException($"The CloudEvent has no '{name}' attribute, which CloudEvents 1.0 requires.");

    private static string? OptionalString(JsonElement root, string name) => StringAttribute(root, name)?.GetString();

    private static string? OptionalString(JsonElement root, string name, Repeated slot) => OptionalString(root, name, slot, out _);

    /// <summary>
    /// As <see cref="OptionalString(JsonElement, string)"/> for an attribute most events of a stream repeat (their type,
    /// source, content type and schema): when the text equals the one this thread read last for <paramref name="slot"/>,
    /// that string is returned (<paramref name="seenBefore"/> true) instead of a new copy.
    /// </summary>
    private static string? OptionalString(JsonElement root, string name, Repeated slot, out bool seenBefore)
    {
        seenBefore = false;
        if (StringAttribute(root, name) is not { } value)
        {
            return null;
        }

        string?[] last = _lastRead ??= new string?[(int)Repeated.Count];
        if (last[(int)slot] is { } previous && value.ValueEquals(previous))
        {
            seenBefore = true;
            return previous;
        }

        string read = value.GetString()!;
        last[(int)slot] = read;
        return read;
    }

    /// <summary>The attribute <paramref name="name"/> when it is a string; null when absent or null.</summary>
    /// <exception cref="EventDecodingException">The attribute is another kind of value.</exception>
    private static JsonElement? StringAttribute(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value
            : throw new EventDecodingException($"The CloudEvent's '{name}' attribute must be a string, not {value.ValueKind}.");
    }

    /// <summary>A JSON payload's own bytes, as written (JSON must be valid UTF-8: bytes that are not are refused, as the text would be).</summary>
    private static byte[] RawJson(JsonElement data)
    {
        ReadOnlySpan<byte> raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(data);
        return System.Text.Unicode.Utf8.IsValid(raw)
            ? raw.ToArray()
            : throw new EventDecodingException("The CloudEvent's data is not valid UTF-8, so not JSON.");
    }

    private static bool IsReserved(JsonProperty property)
    {
        foreach (byte[] name in ReservedUtf8)
        {
            if (property.NameEquals(name))
            {
                return true;
            }
        }

        return false;
    }

    private static readonly byte[][] ReservedUtf8 = [.. Envelope.ReservedNames.Select(System.Text.Encoding.UTF8.GetBytes)];

    /// <summary>The last text this thread read for each repeated attribute (see <see cref="OptionalString(JsonElement, string, Repeated, out bool)"/>).</summary>
    [ThreadStatic]
    private static string?[]? _lastRead;

    /// <summary>Attributes whose last text each thread keeps.</summary>
    private enum Repeated
    {
        Type,
        Source,
        ContentType,
        DataSchema,
        Count,
    }
}
