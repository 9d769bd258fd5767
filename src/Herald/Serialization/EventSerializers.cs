using System.Collections.Concurrent;

namespace Herald;

/// <summary>
/// Which serializer writes each event type, and which reads each content type, for the whole process (as topic
/// bindings are). A transport writes with its own serializer (<c>o.Serializer</c>, System.Text.Json by default)
/// unless the event's type has one of its own (<see cref="Use{TEvent}"/>), and reads a payload with the serializer
/// its <c>datacontenttype</c> names: its own, the event type's, or one added with <see cref="AddDeserializer"/>. So
/// during a migration from one format to another, old and new payloads on one topic are both read.
/// <c>h.UseSerializer&lt;TEvent&gt;(...)</c> and <c>h.AddDeserializer(...)</c> in <c>AddHerald</c> call these.
/// </summary>
public static class EventSerializers
{
    private static readonly ConcurrentDictionary<Type, IEventSerializer> ByType = new();
    private static readonly ConcurrentDictionary<string, IEventSerializer> ByContentType = new(StringComparer.OrdinalIgnoreCase);
    private static volatile bool _anyByType;

    /// <summary>
    /// Writes events of <typeparamref name="TEvent"/> with <paramref name="serializer"/> on every transport (and reads
    /// its content type with it). The same serializer type again does nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">The type already has a serializer of another kind.</exception>
    public static void Use<TEvent>(IEventSerializer serializer) => Use(typeof(TEvent), serializer);

    /// <summary>Writes events of <paramref name="eventType"/> with <paramref name="serializer"/>. See <see cref="Use{TEvent}"/>.</summary>
    /// <param name="eventType">The event type.</param>
    /// <param name="serializer">Its serializer.</param>
    /// <exception cref="InvalidOperationException">The type already has a serializer of another kind.</exception>
    public static void Use(Type eventType, IEventSerializer serializer)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        ArgumentNullException.ThrowIfNull(serializer);
        IEventSerializer held = ByType.GetOrAdd(eventType, serializer);
        if (held.GetType() != serializer.GetType() || !string.Equals(held.ContentType, serializer.ContentType, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Event type '{eventType.FullName}' is already written with {held.GetType().Name} ({held.ContentType}); it cannot also be written with {serializer.GetType().Name} ({serializer.ContentType}).");
        }

        _anyByType = true;
        AddDeserializer(serializer);
    }

    /// <summary>
    /// Reads payloads whose <c>datacontenttype</c> is <paramref name="serializer"/>'s with it, on every transport whose
    /// own serializer writes another content type: the old format during a migration, or a format other services write.
    /// The first serializer added for a content type is kept.
    /// </summary>
    public static void AddDeserializer(IEventSerializer serializer)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        ByContentType.TryAdd(MediaType(serializer.ContentType), serializer);
    }

    /// <summary>The serializer that writes <paramref name="eventType"/>: its own, else the transport's.</summary>
    internal static IEventSerializer WriterFor(Type eventType, IEventSerializer transport) =>
        _anyByType && ByType.TryGetValue(eventType, out IEventSerializer? own) ? own : transport;

    /// <summary>
    /// The serializer that reads a payload of <paramref name="contentType"/> (null: JSON, the CloudEvents default) as
    /// <paramref name="eventType"/>: the type's own when it writes that content type, else the transport's, else one
    /// added for it; null when none does.
    /// </summary>
    internal static IEventSerializer? ReaderFor(string? contentType, Type eventType, IEventSerializer transport)
    {
        // The common case, on every read, without parsing (or allocating) a media type: a type with no serializer of its
        // own, and a payload in the transport's content type as the transport writes it.
        if ((!_anyByType || !ByType.ContainsKey(eventType))
            && (contentType is null ? IsJson(transport.ContentType) : string.Equals(contentType, transport.ContentType, StringComparison.OrdinalIgnoreCase)))
        {
            return transport;
        }

        // The type's own serializer first: it wrote the type (perhaps with a source-generated context or a resolver of
        // its own) even when the transport writes the same content type.
        string media = contentType is null ? "application/json" : MediaType(contentType);
        if (_anyByType && ByType.TryGetValue(eventType, out IEventSerializer? own) && Same(media, own.ContentType))
        {
            return own;
        }

        if (Same(media, transport.ContentType))
        {
            return transport;
        }

        return ByContentType.TryGetValue(media, out IEventSerializer? added) ? added : null;
    }

    private static bool Same(string media, string contentType) => string.Equals(media, MediaType(contentType), StringComparison.OrdinalIgnoreCase)
        || (IsJson(media) && IsJson(contentType));

    private static bool IsJson(string contentType) =>
        contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The media type without parameters (<c>; charset=utf-8</c>), and the usual aliases of MessagePack and Protobuf made one.</summary>
    private static string MediaType(string contentType)
    {
        int semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        string media = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        return media.ToLowerInvariant() switch
        {
            "application/x-msgpack" or "application/vnd.msgpack" => "application/msgpack",
            "application/x-protobuf" or "application/vnd.google.protobuf" => "application/protobuf",
            _ => media,
        };
    }
}
