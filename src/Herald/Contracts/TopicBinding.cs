namespace Herald;

/// <summary>What an event type's <see cref="TopicAttribute"/> resolved to, or why it did not.</summary>
internal sealed record TopicBinding(string Topic, string? DataSchema, string? Error);
