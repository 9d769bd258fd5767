using System.Buffers;

namespace Herald;

/// <summary>
/// Turns event objects into bytes and back at a process boundary. In process nothing is serialized; each transport
/// that crosses a boundary is given a serializer (System.Text.Json by default).
/// </summary>
public interface IEventSerializer
{
    /// <summary>The content type written to the envelope's <c>datacontenttype</c>, e.g. <c>application/json</c>.</summary>
    string ContentType { get; }

    /// <summary>Writes <paramref name="data"/>, an instance of <paramref name="type"/>, to <paramref name="output"/>.</summary>
    void Serialize(IBufferWriter<byte> output, object data, Type type);

    /// <summary>Reads an instance of <paramref name="type"/> from <paramref name="data"/>.</summary>
    /// <exception cref="EventDecodingException">The bytes are not a valid <paramref name="type"/>.</exception>
    object? Deserialize(ReadOnlySpan<byte> data, Type type);
}
