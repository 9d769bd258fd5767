using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Herald;

/// <summary>
/// The default <see cref="IEventSerializer"/>: System.Text.Json, <c>application/json</c>, web defaults (camelCase).
/// For trimming and native AOT pass options whose <see cref="JsonSerializerOptions.TypeInfoResolver"/> is a
/// source-generated <c>JsonSerializerContext</c>.
/// </summary>
public sealed class SystemTextJsonEventSerializer : IEventSerializer
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates a serializer with web defaults and reflection-based metadata.</summary>
    [RequiresUnreferencedCode("Reflection-based JSON serialization; pass source-generated options for trimmed or AOT apps.")]
    [RequiresDynamicCode("Reflection-based JSON serialization; pass source-generated options for trimmed or AOT apps.")]
    public SystemTextJsonEventSerializer()
        : this(new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() })
    {
    }

    /// <summary>
    /// The serializer a transport uses when given none. Where reflection-based JSON is enabled (the default), web
    /// defaults with reflection metadata, as <see cref="SystemTextJsonEventSerializer()"/>. In a trimmed or native AOT
    /// app (where <c>JsonSerializerIsReflectionEnabledByDefault</c> is false) it knows no type: the first publish or
    /// read of one says to add it to a source-generated <c>JsonSerializerContext</c> and to pass that serializer
    /// (<c>new SystemTextJsonEventSerializer(AppJson.Default.Options)</c>) to the transport.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reached only where JsonSerializer.IsReflectionEnabledByDefault is true: a feature switch the trimmer sets to false in trimmed and AOT apps, removing this branch.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reached only where JsonSerializer.IsReflectionEnabledByDefault is true: a feature switch the trimmer sets to false in trimmed and AOT apps, removing this branch.")]
    public static SystemTextJsonEventSerializer CreateDefault() =>
        JsonSerializer.IsReflectionEnabledByDefault
            ? new SystemTextJsonEventSerializer()
            : new SystemTextJsonEventSerializer(new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = JsonTypeInfoResolver.Combine() });

    /// <summary>Creates a serializer with the given options, which must have a <see cref="JsonSerializerOptions.TypeInfoResolver"/>.</summary>
    /// <exception cref="ArgumentException">The options have no type-info resolver.</exception>
    public SystemTextJsonEventSerializer(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TypeInfoResolver is null)
        {
            throw new ArgumentException(
                "The JsonSerializerOptions have no TypeInfoResolver: set it to a source-generated JsonSerializerContext (or DefaultJsonTypeInfoResolver when reflection is fine).",
                nameof(options));
        }

        options.MakeReadOnly();
        _options = options;
    }

    /// <inheritdoc />
    public string ContentType => "application/json";

    /// <inheritdoc />
    public void Serialize(IBufferWriter<byte> output, object data, Type type)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(data);

        // The thread's kept JSON writer (a writer is ~200 bytes of objects), reset onto the output and detached after.
        Utf8JsonWriter writer = ScratchBuffers.RentWriter(output);
        try
        {
            JsonSerializer.Serialize(writer, data, TypeInfo(type));
        }
        finally
        {
            ScratchBuffers.Return(writer);
        }
    }

    /// <inheritdoc />
    public object? Deserialize(ReadOnlySpan<byte> data, Type type)
    {
        JsonTypeInfo info = TypeInfo(type);
        try
        {
            return JsonSerializer.Deserialize(data, info);
        }
        catch (JsonException ex)
        {
            throw new EventDecodingException($"The payload is not a valid JSON '{type.FullName}': {ex.Message}", ex);
        }
    }

    private JsonTypeInfo TypeInfo(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        try
        {
            return _options.GetTypeInfo(type);
        }
        catch (NotSupportedException ex)
        {
            throw new EventDecodingException(
                $"Type '{type.FullName}' is not known to the JSON serializer's TypeInfoResolver; add it to your JsonSerializerContext.", ex);
        }
    }
}
