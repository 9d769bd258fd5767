namespace Herald.Transport;

/// <summary>What a consumer asks of a transport: which topics, which group, how much room, what to do when full, and ordering.</summary>
/// <param name="Name">The consumer's name (logs, errors, dead letters).</param>
/// <param name="Pattern">The topic or pattern consumed (<c>*</c> one segment, <c>#</c> zero or more).</param>
public sealed record ConsumerSpec(string Name, TopicPattern Pattern)
{
    /// <summary>The consumer's name (logs, errors, dead letters).</summary>
    public string Name { get; init; } = !string.IsNullOrWhiteSpace(Name) ? Name : throw new ArgumentException("A consumer needs a name.", nameof(Name));

    /// <summary>The topic or pattern consumed.</summary>
    public TopicPattern Pattern { get; init; } = Pattern ?? throw new ArgumentNullException(nameof(Pattern));

    /// <summary>The consumer group: members of one group compete for events, groups each get a copy. Null: the consumer is a group of its own, named <see cref="Name"/>.</summary>
    public string? Group { get; init; }

    /// <summary>The group this consumer belongs to: <see cref="Group"/>, or <see cref="Name"/> when it has none.</summary>
    public string GroupName => Group ?? Name;

    /// <summary>How many envelopes wait locally per lane. Default 1024.</summary>
    public int Capacity { get; init; } = 1024;

    /// <summary>
    /// What a publish does when the consumer's queue is full. A transport whose queue is a log or a broker queue, where a
    /// publish never waits for a consumer, honours <see cref="Overflow.Wait"/> only and refuses the others at subscription.
    /// </summary>
    public Overflow Overflow { get; init; } = Overflow.Wait;

    /// <summary>How many ordered lanes (by key) the consumer has; 1 for none.</summary>
    public int Lanes { get; init; } = 1;

    /// <summary>The type the reader binds payloads to (null or <see cref="object"/> for untyped readers): a transport that carries payloads as bytes decodes them to it.</summary>
    public Type? EventType { get; init; }

    /// <summary>Events of one key must be handled in publish order, retries included (a broker then lets one consumer of the group read at a time).</summary>
    public bool Ordered { get; init; }

    /// <summary>How many deliveries the reader handles at once (a broker's prefetch follows it). Default 1.</summary>
    public int Concurrency { get; init; } = 1;
}
