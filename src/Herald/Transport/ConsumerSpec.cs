namespace Herald.Transport;

/// <summary>What a consumer asks of a transport: which topics, which group, how much room and what to do when full.</summary>
/// <param name="Name">The consumer's name (logs, errors, dead letters).</param>
/// <param name="Group">The consumer group (members compete), or null for the name.</param>
/// <param name="Pattern">The topic or pattern consumed.</param>
/// <param name="Capacity">The queue's room (per lane).</param>
/// <param name="Overflow">What a publish does when the queue is full (in memory; a durable transport always waits: its log is the buffer).</param>
/// <param name="Lanes">Ordered lanes by key (1 for none).</param>
/// <param name="EventType">The type the reader binds payloads to (null or <see cref="object"/> for untyped readers): a transport that stores payloads as bytes decodes them to it.</param>
/// <param name="Ordered">Events of one key must be handled in publish order (a broker then lets one consumer of the group read at a time).</param>
/// <param name="Concurrency">How many deliveries the reader handles at once (a broker's prefetch follows it).</param>
internal sealed record ConsumerSpec(string Name, string? Group, TopicPattern Pattern, int Capacity, Overflow Overflow, int Lanes, Type? EventType = null, bool Ordered = false, int Concurrency = 1);
