using System.Collections.Concurrent;
using System.Reflection;

namespace Herald;

/// <summary>
/// The topic grammar: two or more lowercase segments joined by dots, each segment <c>[a-z0-9][a-z0-9_-]*</c>,
/// at most 255 characters in all (the AMQP routing-key limit). Examples: <c>user.created</c>, <c>payment.refunded</c>.
/// </summary>
public static class Topic
{
    /// <summary>The longest topic accepted, in characters.</summary>
    public const int MaxLength = 255;

    private static readonly ConcurrentDictionary<Type, TopicBinding> Bindings = new();
    private static readonly ConcurrentDictionary<string, (Type Type, int Version)> TypesByTopic = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<(string Topic, int Version), Type> TypesByVersion = new();
    private static readonly ConcurrentDictionary<(string Topic, string Family), byte> SchemaFamilies = new();
    private static readonly ConcurrentDictionary<Type, string> Explicit = new();
    private static readonly Lock BindLock = new();

    /// <summary>Returns true when <paramref name="topic"/> is a valid topic.</summary>
    public static bool IsValid(string? topic) => Explain(topic) is null;

    /// <summary>Throws an <see cref="InvalidTopicException"/> that says what is wrong when <paramref name="topic"/> is not a valid topic.</summary>
    /// <param name="topic">The topic to check.</param>
    public static void Validate(string? topic)
    {
        string? problem = Explain(topic);
        if (problem is not null)
        {
            throw new InvalidTopicException(problem, topic, eventType: null);
        }
    }

    /// <summary>Returns the topic bound to <typeparamref name="TEvent"/> (by its <see cref="TopicAttribute"/> or by <see cref="Bind{TEvent}"/>).</summary>
    /// <exception cref="InvalidTopicException">The type has no topic or its topic is invalid.</exception>
    public static string Of<TEvent>() => Of(typeof(TEvent));

    /// <summary>Returns the topic bound to <paramref name="eventType"/> (by its <see cref="TopicAttribute"/> or by <see cref="Bind(Type, string, string?, int)"/>).</summary>
    /// <exception cref="InvalidTopicException">The type has no topic or its topic is invalid.</exception>
    public static string Of(Type eventType) => BindingOf(eventType).Topic;

    /// <summary>
    /// Binds <typeparamref name="TEvent"/> to <paramref name="topic"/> without an attribute, for a type you do not own
    /// (or would rather not annotate). The binding is for the whole process, as an attribute is; binding a type again
    /// to the same topic does nothing. <c>h.Topic&lt;TEvent&gt;(topic)</c> in <c>AddHerald</c> calls this.
    /// </summary>
    /// <param name="topic">The topic, e.g. <c>user.created</c>.</param>
    /// <param name="dataSchema">Optional schema identifier written to the envelope's CloudEvents <c>dataschema</c> attribute.</param>
    /// <param name="version">The payload's version on the topic (see <see cref="TopicAttribute.Version"/>); 0 takes it from <paramref name="dataSchema"/> or means 1.</param>
    /// <exception cref="InvalidTopicException"><paramref name="topic"/> breaks the grammar, or the version and the data schema disagree; the message says how.</exception>
    /// <exception cref="InvalidOperationException">The type already has another topic (its attribute or an earlier binding), or another type was bound to this topic at this version.</exception>
    public static void Bind<TEvent>(string topic, string? dataSchema = null, int version = 0) => Bind(typeof(TEvent), topic, dataSchema, version);

    /// <summary>Binds <paramref name="eventType"/> to <paramref name="topic"/> without an attribute. See <see cref="Bind{TEvent}"/>.</summary>
    /// <param name="eventType">The event type.</param>
    /// <param name="topic">The topic, e.g. <c>user.created</c>.</param>
    /// <param name="dataSchema">Optional schema identifier written to the envelope's CloudEvents <c>dataschema</c> attribute.</param>
    /// <param name="version">The payload's version on the topic (see <see cref="TopicAttribute.Version"/>); 0 takes it from <paramref name="dataSchema"/> or means 1.</param>
    /// <exception cref="InvalidTopicException"><paramref name="topic"/> breaks the grammar, or the version and the data schema disagree; the message says how.</exception>
    /// <exception cref="InvalidOperationException">The type already has another topic (its attribute or an earlier binding), or another type was bound to this topic at this version.</exception>
    public static void Bind(Type eventType, string topic, string? dataSchema = null, int version = 0)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        string? problem = Explain(topic);
        if (problem is not null)
        {
            throw new InvalidTopicException($"Event type '{eventType.FullName}' cannot be bound to its topic: {problem}", topic, eventType);
        }

        (int resolved, string? schema, string? versionProblem) = SchemaVersion.Resolve(topic, version, dataSchema);
        if (versionProblem is not null)
        {
            throw new InvalidTopicException($"Event type '{eventType.FullName}' cannot be bound to '{topic}': {versionProblem}.", topic, eventType);
        }

        lock (BindLock)
        {
            if (eventType.GetCustomAttribute<TopicAttribute>(inherit: false) is { } attribute)
            {
                TopicBinding declared = BindingOf(eventType);
                if (declared.Topic == topic && declared.DataSchema == schema && declared.Version == resolved)
                {
                    return; // what the attribute says already
                }

                throw new InvalidOperationException(
                    $"Event type '{eventType.FullName}' has [Topic(\"{attribute.Name}\"{(attribute.DataSchema is null ? string.Empty : $", DataSchema = \"{attribute.DataSchema}\"")}{(attribute.Version == 0 ? string.Empty : $", Version = {attribute.Version}")})]; "
                    + $"it cannot also be bound to '{topic}'{(dataSchema is null ? string.Empty : $" with data schema '{dataSchema}'")}{(version == 0 ? string.Empty : $" at version {version}")}. Keep one of the two.");
            }

            if (Explicit.TryGetValue(eventType, out string? bound))
            {
                TopicBinding earlier = BindingOf(eventType);
                if (bound == topic && earlier.DataSchema == schema && earlier.Version == resolved)
                {
                    return;
                }

                throw new InvalidOperationException($"Event type '{eventType.FullName}' is already bound to '{bound}' (or with another data schema or version); it cannot be bound to '{topic}' as well.");
            }

            // Marked explicit first, so that an attribute type resolved meanwhile (outside this lock, taking its topic
            // and version with TryAdd) sees whose they are; whichever takes them first keeps them.
            Explicit[eventType] = topic;
            if (!TypesByVersion.TryAdd((topic, resolved), eventType) && TypesByVersion.TryGetValue((topic, resolved), out Type? other) && other != eventType)
            {
                Explicit.TryRemove(eventType, out _);
                throw new InvalidOperationException(
                    $"Topic '{topic}'{(resolved == 1 ? string.Empty : $" at version {resolved}")} is already bound to event type '{other.FullName}'; bind '{eventType.FullName}' to a topic of its own "
                    + "(one type per topic and version, so a reader knows what to decode), or give it another version of the topic.");
            }

            Newest(topic, eventType, resolved);
            RememberFamily(topic, schema);
            Bindings[eventType] = new TopicBinding(topic, schema, null, resolved); // replaces a "no topic" found before the binding
        }
    }

    /// <summary>
    /// The event type bound to <paramref name="topic"/> in this process (once the type's topic has been resolved: it
    /// was published, subscribed or handled), for decoding stored payloads that reach untyped readers.
    /// </summary>
    /// <remarks>When several versions of the topic have types, the newest version's.</remarks>
    internal static bool TryGetType(string topic, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Type? eventType)
    {
        bool found = TypesByTopic.TryGetValue(topic, out (Type Type, int Version) newest);
        eventType = found ? newest.Type : null;
        return found;
    }

    /// <summary>The binding of <paramref name="eventType"/>, or false when it has no valid topic.</summary>
    internal static bool TryBindingOf(Type eventType, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TopicBinding? binding)
    {
        binding = Bindings.TryGetValue(eventType, out TopicBinding? found) ? found : Bindings.GetOrAdd(eventType, Bind);
        if (binding.Error is null)
        {
            return true;
        }

        binding = null;
        return false;
    }

    /// <summary>True when a type bound to <paramref name="topic"/> has a versioned data schema of <paramref name="family"/> (see <see cref="SchemaVersion.Of"/>).</summary>
    internal static bool HasSchemaFamily(string topic, string family) => SchemaFamilies.ContainsKey((topic, family));

    private static void RememberFamily(string topic, string? schema)
    {
        if (SchemaVersion.TryParse(schema, out string? family, out _))
        {
            SchemaFamilies.TryAdd((topic, family), 0);
        }
    }

    /// <summary>Makes <paramref name="eventType"/> the topic's type for untyped readers when its version is the newest seen.</summary>
    private static void Newest(string topic, Type eventType, int version) =>
        TypesByTopic.AddOrUpdate(
            topic,
            static (_, offered) => offered,
            static (_, held, offered) => offered.Version > held.Version ? offered : held,
            (Type: eventType, Version: version));

    internal static TopicBinding BindingOf(Type eventType)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        TopicBinding binding = Bindings.TryGetValue(eventType, out TopicBinding? found) ? found : Bindings.GetOrAdd(eventType, Bind);
        if (binding.Error is not null)
        {
            throw new InvalidTopicException(binding.Error, binding.Topic, eventType);
        }

        return binding;
    }

    /// <summary>
    /// Records the binding <paramref name="eventType"/>'s <see cref="TopicAttribute"/> declares, given without reading
    /// the attribute: the code Herald's source generator writes calls it from a module initializer, so that a topic is
    /// known without reflection. Checked as the attribute is; a bad declaration is reported at the type's first use,
    /// as the attribute's would be, never here. Not for use in your code: use <see cref="Bind{TEvent}"/>.
    /// </summary>
    /// <param name="eventType">The type carrying the attribute.</param>
    /// <param name="topic">The attribute's <see cref="TopicAttribute.Name"/>.</param>
    /// <param name="dataSchema">The attribute's <see cref="TopicAttribute.DataSchema"/>.</param>
    /// <param name="version">The attribute's <see cref="TopicAttribute.Version"/>.</param>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public static void Declare(Type eventType, string topic, string? dataSchema, int version)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        Bindings.GetOrAdd(eventType, static (type, declared) => FromDeclaration(type, declared.topic, declared.dataSchema, declared.version), (topic, dataSchema, version));
    }

    private static TopicBinding Bind(Type eventType)
    {
        TopicAttribute? attribute = eventType.GetCustomAttribute<TopicAttribute>(inherit: false);
        if (attribute is null)
        {
            return new TopicBinding(
                string.Empty,
                null,
                $"Event type '{eventType.FullName}' has no topic. Add [Topic(\"domain.action\")] to the type, e.g. [Topic(\"user.created\")], "
                + "or bind it in AddHerald with h.Topic<T>(\"domain.action\") (for a type you do not own); the topic is not inherited from a base type.");
        }

        return FromDeclaration(eventType, attribute.Name, attribute.DataSchema, attribute.Version);
    }

    /// <summary>The binding a <see cref="TopicAttribute"/> with these values declares, or why it is invalid.</summary>
    private static TopicBinding FromDeclaration(Type eventType, string name, string? dataSchema, int declaredVersion)
    {
        string? problem = Explain(name);
        (int version, string? schema, string? versionProblem) = problem is null
            ? SchemaVersion.Resolve(name, declaredVersion, dataSchema)
            : (1, null, null);
        problem ??= versionProblem;
        if (problem is null && !TypesByVersion.TryAdd((name, version), eventType)
            && TypesByVersion.TryGetValue((name, version), out Type? other) && other != eventType && Explicit.ContainsKey(other))
        {
            // Two attribute types may share a topic and version (the first names its payload); a type bound without an
            // attribute owns its topic and version, so that readers of the topic decode it as that type.
            problem = $"the topic{(version == 1 ? string.Empty : $" at version {version}")} is bound to event type '{other.FullName}' (h.Topic<{other.Name}>(\"{name}\")); one type per topic and version";
        }

        if (problem is not null)
        {
            return new TopicBinding(name ?? string.Empty, null, $"Event type '{eventType.FullName}' declares an invalid topic: {problem}");
        }

        Newest(name, eventType, version);
        RememberFamily(name, schema);
        return new TopicBinding(name, schema, null, version);
    }

    /// <summary>Returns null for a valid topic, else a sentence saying what is wrong.</summary>
    internal static string? Explain(string? topic)
    {
        if (string.IsNullOrEmpty(topic))
        {
            return "A topic must not be null or empty; use '{domain}.{action}', e.g. 'user.created'.";
        }

        if (topic.Length > MaxLength)
        {
            return $"Topic '{topic[..40]}...' is {topic.Length} characters long; the limit is {MaxLength}.";
        }

        int segments = 0;
        int start = 0;
        for (int i = 0; i <= topic.Length; i++)
        {
            if (i < topic.Length && topic[i] != '.')
            {
                continue;
            }

            segments++;
            string? segmentProblem = ExplainSegment(topic, topic.AsSpan(start, i - start), segments, allowWildcards: false);
            if (segmentProblem is not null)
            {
                return segmentProblem;
            }

            start = i + 1;
        }

        return segments < 2
            ? $"Topic '{topic}' has a single segment; a topic needs at least two, '{{domain}}.{{action}}', e.g. 'user.{topic}'."
            : null;
    }

    internal static string? ExplainSegment(string whole, ReadOnlySpan<char> segment, int position, bool allowWildcards)
    {
        string kind = allowWildcards ? "Pattern" : "Topic";
        if (segment.IsEmpty)
        {
            return $"{kind} '{whole}' has an empty segment at position {position}; segments are separated by single dots.";
        }

        if (segment is "*" or "#")
        {
            return allowWildcards
                ? null
                : $"Topic '{whole}' contains the wildcard '{segment}': wildcards belong in subscription patterns, not in the topic an event is published to.";
        }

        foreach (char c in segment)
        {
            if (c is '*' or '#')
            {
                return $"{kind} '{whole}' has segment '{segment}' with a wildcard mixed with text; '*' and '#' must stand alone as a whole segment.";
            }

            if (!IsSegmentStart(c) && c is not ('_' or '-'))
            {
                string what = c is >= 'A' and <= 'Z' ? $"the uppercase letter '{c}' (topics are lowercase)" : $"the character '{c}'";
                return $"{kind} '{whole}' has segment '{segment}' with {what}; segments use [a-z0-9_-] only.";
            }
        }

        if (!IsSegmentStart(segment[0]))
        {
            return $"{kind} '{whole}' has segment '{segment}' that starts with '{segment[0]}'; a segment starts with a lowercase letter or a digit.";
        }

        return null;
    }

    private static bool IsSegmentStart(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
}
