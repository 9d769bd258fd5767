using System.Buffers;
using MessagePack;
using MessagePack.Resolvers;

namespace Herald.MessagePack;

/// <summary>
/// An <see cref="IEventSerializer"/> for MessagePack (MessagePack-CSharp 2.5), content type <c>application/msgpack</c>.
/// By default any type is written contractless, as a map keyed by property names (no attributes needed, and a field
/// added later is skipped by older readers); pass options with a resolver of your own for <c>[MessagePackObject]</c>
/// types with integer keys (smaller) or a source-generated resolver (for trimmed and AOT apps).
/// </summary>
/// <example><code>h.UseSerializer&lt;OrderPlaced&gt;(new MessagePackEventSerializer());                      // one event type
/// h.UseSqlite("Data Source=app.db", o => o.Serializer = new MessagePackEventSerializer());    // a whole transport</code></example>
public sealed class MessagePackEventSerializer : IEventSerializer
{
    private readonly MessagePackSerializerOptions _options;

    /// <summary>Creates a serializer that writes any type contractless (map keyed by property names), with untrusted-data security.</summary>
    public MessagePackEventSerializer()
        : this(MessagePackSerializerOptions.Standard.WithResolver(ContractlessStandardResolver.Instance).WithSecurity(MessagePackSecurity.UntrustedData))
    {
    }

    /// <summary>Creates a serializer with the given options (resolver, compression, security).</summary>
    public MessagePackEventSerializer(MessagePackSerializerOptions options) => _options = options ?? throw new ArgumentNullException(nameof(options));

    /// <inheritdoc />
    public string ContentType => "application/msgpack";

    /// <inheritdoc />
    public void Serialize(IBufferWriter<byte> output, object data, Type type)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(type);
        MessagePackSerializer.Serialize(type, output, data, _options);
    }

    /// <inheritdoc />
    public unsafe object? Deserialize(ReadOnlySpan<byte> data, Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        fixed (byte* pinned = data)
        {
            using var memory = new PinnedMemory(pinned, data.Length);
            try
            {
                var reader = new MessagePackReader(memory.Memory);
                object? value = MessagePackSerializer.Deserialize(type, ref reader, _options);
                return reader.End
                    ? value
                    : throw new EventDecodingException($"The MessagePack payload has {reader.Sequence.Length - reader.Consumed} bytes after the '{type.FullName}' it holds.");
            }
            catch (MessagePackSerializationException ex)
            {
                throw new EventDecodingException($"The payload is not a valid MessagePack '{type.FullName}': {ex.InnerException?.Message ?? ex.Message}", ex);
            }
        }
    }

    /// <summary>A span's memory, pinned by the caller for as long as this lives: MessagePack reads memory, the interface hands a span.</summary>
    private sealed unsafe class PinnedMemory(byte* pointer, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
