using System.Buffers;

namespace Herald.Sqlite;

/// <summary>How envelopes are stored: one structured CloudEvent (JSON) per row, readable by any tool.</summary>
internal sealed class EnvelopeCodec(IEventSerializer serializer)
{
    private readonly CloudEventJsonFormatter _formatter = new(serializer);

    /// <summary>The structured-mode formatter the codec writes with.</summary>
    public CloudEventJsonFormatter Formatter => _formatter;

    public IEventSerializer Serializer { get; } = serializer;

    public byte[] Encode(Envelope envelope) => _formatter.Encode(envelope);

    /// <exception cref="EventDecodingException">The stored bytes are not a CloudEvent Herald can read.</exception>
    public static Envelope Decode(byte[] stored) => CloudEventJsonFormatter.Decode(stored);

    /// <exception cref="EventDecodingException">The payload cannot be read as <paramref name="type"/>.</exception>
    public object? DecodeData(Envelope envelope, Type type) => _formatter.DecodeData(envelope, type);

    /// <summary>See <see cref="CloudEventJsonFormatter.DecodeUntyped"/>.</summary>
    public object? DecodeUntyped(Envelope envelope, Type known) => _formatter.DecodeUntyped(envelope, known);

    public byte[] Serialize<T>(T value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Serializer.Serialize(buffer, value!, typeof(T));
        return buffer.WrittenSpan.ToArray();
    }
}
