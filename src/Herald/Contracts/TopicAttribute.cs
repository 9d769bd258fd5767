namespace Herald;

/// <summary>
/// Binds an event type to its topic, e.g. <c>[Topic("user.created")]</c>.
/// </summary>
/// <remarks>
/// A topic is two or more lowercase segments joined by dots (<c>{domain}.{action}</c>); each segment matches
/// <c>[a-z0-9][a-z0-9_-]*</c>. The topic is checked the first time the type is published or subscribed to,
/// and a bad or missing topic raises an <see cref="InvalidTopicException"/> that names the type.
/// </remarks>
/// <param name="name">The topic, e.g. <c>user.created</c>.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false, AllowMultiple = false)]
public sealed class TopicAttribute(string name) : Attribute
{
    /// <summary>The topic events of this type are published to.</summary>
    public string Name { get; } = name;

    /// <summary>
    /// Optional schema identifier (a URI such as <c>urn:myapp:user.created:v2</c>) written to the envelope's
    /// CloudEvents <c>dataschema</c> attribute.
    /// </summary>
    public string? DataSchema { get; init; }

    /// <summary>
    /// The version of this type's payload on its topic, 1 or more; 0 (the default) takes it from
    /// <see cref="DataSchema"/>'s last segment (<c>...:v2</c>) or else means 1. The version travels in the envelope's
    /// <c>dataschema</c> (<c>urn:herald:{topic}:v{version}</c> when <see cref="DataSchema"/> is not given), so a reader
    /// of a newer version reads older events through the upcasters registered with
    /// <c>h.Upcast&lt;TOld, TNew&gt;(...)</c>, and a reader of an older version dead-letters a newer event instead of
    /// misreading it. An older version's type keeps its attribute, with its own version, on the same topic.
    /// </summary>
    public int Version { get; init; }
}
