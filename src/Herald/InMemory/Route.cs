namespace Herald.InMemory;

/// <summary>Where events of one topic go: every ungrouped queue that matches, and one member of each matching group.</summary>
internal sealed class Route(MemoryQueue[] queues, ConsumerGroup[] groups)
{
    public MemoryQueue[] Queues { get; } = queues;

    public ConsumerGroup[] Groups { get; } = groups;

    public bool IsEmpty => Queues.Length == 0 && Groups.Length == 0;
}
