using System.Buffers;

namespace Herald;

/// <summary>The payload of an envelope as bytes, for any wire format: what it already carries, or its event serialized.</summary>
internal static class EnvelopePayload
{
    /// <summary>The CloudEvents <c>time</c> as Herald writes it: RFC 3339 with 100 ns precision and the offset.</summary>
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffffzzz";

    /// <summary>
    /// <see cref="Envelope.EncodedData"/> with its <see cref="Envelope.DataContentType"/> when the envelope carries bytes;
    /// otherwise its event serialized by its type's own serializer (<see cref="EventSerializers"/>) or <paramref name="serializer"/>, with that serializer's content type; empty and
    /// null for an event without payload. The body is the caller's to keep.
    /// </summary>
    public static (ReadOnlyMemory<byte> Body, string? ContentType) Encode(Envelope envelope, IEventSerializer serializer)
    {
        if (!envelope.EncodedData.IsEmpty || envelope.Data is null)
        {
            return (envelope.EncodedData, envelope.DataContentType);
        }

        ArrayBufferWriter<byte> scratch = ScratchBuffers.Rent();
        try
        {
            (ReadOnlyMemory<byte> body, string? contentType) = Encode(envelope, serializer, scratch);
            return (body.ToArray(), contentType);
        }
        finally
        {
            ScratchBuffers.Return(scratch);
        }
    }

    /// <summary>
    /// As <see cref="Encode(Envelope, IEventSerializer)"/>, serializing into <paramref name="scratch"/>: the body may be
    /// <paramref name="scratch"/>'s written bytes, valid until it is written to again.
    /// </summary>
    public static (ReadOnlyMemory<byte> Body, string? ContentType) Encode(Envelope envelope, IEventSerializer serializer, ArrayBufferWriter<byte> scratch)
    {
        if (!envelope.EncodedData.IsEmpty || envelope.Data is not { } data)
        {
            return (envelope.EncodedData, envelope.DataContentType);
        }

        Type type = data.GetType();
        IEventSerializer writer = EventSerializers.WriterFor(type, serializer);
        writer.Serialize(scratch, data, type);
        return (scratch.WrittenMemory, writer.ContentType);
    }
}
