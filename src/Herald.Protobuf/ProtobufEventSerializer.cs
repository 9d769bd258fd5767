using System.Buffers;
using ProtoBuf;
using ProtoBuf.Meta;

namespace Herald.Protobuf;

/// <summary>
/// An <see cref="IEventSerializer"/> for Protocol Buffers (protobuf-net 3), content type <c>application/protobuf</c>.
/// Event types are <c>[ProtoContract]</c> types with numbered <c>[ProtoMember(n)]</c> members (records with positional
/// parameters: <c>[ProtoContract(SkipConstructor = true)]</c> and <c>[property: ProtoMember(n)]</c>); a member added
/// later under a new number is skipped by older readers. An event whose members all hold their defaults is written
/// as zero bytes, as Protobuf writes it, and read back as such.
/// </summary>
/// <example><code>h.UseSerializer&lt;OrderPlaced&gt;(new ProtobufEventSerializer());</code></example>
public sealed class ProtobufEventSerializer : IEventSerializer
{
    private readonly TypeModel _model;

    /// <summary>Creates a serializer on protobuf-net's default model.</summary>
    public ProtobufEventSerializer()
        : this(RuntimeTypeModel.Default)
    {
    }

    /// <summary>Creates a serializer on the given model (a configured <see cref="RuntimeTypeModel"/>, or a compiled one).</summary>
    public ProtobufEventSerializer(TypeModel model) => _model = model ?? throw new ArgumentNullException(nameof(model));

    /// <inheritdoc />
    public string ContentType => "application/protobuf";

    /// <inheritdoc />
    public void Serialize(IBufferWriter<byte> output, object data, Type type)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(type);
        try
        {
            _model.Serialize(output, data);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"'{type.FullName}' cannot be written as Protobuf: {ex.Message} Mark it [ProtoContract] with numbered [ProtoMember(n)] members.", ex);
        }
    }

    /// <inheritdoc />
    public object? Deserialize(ReadOnlySpan<byte> data, Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        try
        {
            return _model.Deserialize(type, data);
        }
        catch (Exception ex) when (ex is ProtoException or EndOfStreamException or InvalidOperationException or OverflowException)
        {
            throw new EventDecodingException($"The payload is not a valid Protobuf '{type.FullName}': {ex.Message}", ex);
        }
    }
}
