namespace Herald.Transport;

/// <summary>What a consumer asks of a transport: which topics, which group, how much room and what to do when full.</summary>
internal sealed record ConsumerSpec(string Name, string? Group, TopicPattern Pattern, int Capacity, Overflow Overflow, int Lanes);
