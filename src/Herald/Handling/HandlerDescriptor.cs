namespace Herald;

/// <summary>What the pipeline knows of the handler a delivery is for.</summary>
public sealed class HandlerDescriptor
{
    internal HandlerDescriptor(string name, Type handlerType, Type? eventType, TopicPattern pattern, HandlerOptions options)
    {
        Name = name;
        HandlerType = handlerType;
        EventType = eventType;
        Pattern = pattern;
        Options = options;
    }

    /// <summary>The consumer name: <see cref="HandlerOptions.Name"/>, else the handler type's name (with the topic when it handles several).</summary>
    public string Name { get; }

    /// <summary>The handler class.</summary>
    public Type HandlerType { get; }

    /// <summary>The event type, or null for a pattern handler.</summary>
    public Type? EventType { get; }

    /// <summary>The topic (or pattern) the handler consumes.</summary>
    public TopicPattern Pattern { get; }

    /// <summary>The handler's options (validated).</summary>
    public HandlerOptions Options { get; }

    /// <summary>The consumer group: <see cref="HandlerOptions.Group"/>, else the name.</summary>
    public string Group => Options.Group ?? Name;

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Pattern})";
}
