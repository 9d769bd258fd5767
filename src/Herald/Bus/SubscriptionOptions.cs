namespace Herald;

/// <summary>Settings of one subscription. Validated when the subscription is created.</summary>
public sealed class SubscriptionOptions
{
    /// <summary>Shared defaults: capacity 1024, <see cref="Overflow.Wait"/>, no group, one lane.</summary>
    internal static readonly SubscriptionOptions Default = new();

    /// <summary>A name for logs, metrics and error messages. Default: the group, else the topic or pattern with a number.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// The consumer group. Subscriptions in the same group compete: each event goes to one member of the group
    /// (round-robin, skipping members that are full). Subscriptions in different groups, or in none, each get a copy.
    /// </summary>
    public string? Group { get; init; }

    /// <summary>How many events may wait in the queue (per lane). Default 1024.</summary>
    public int Capacity { get; init; } = 1024;

    /// <summary>What happens when the queue is full. Default <see cref="Overflow.Wait"/>.</summary>
    public Overflow Overflow { get; init; } = Overflow.Wait;

    /// <summary>
    /// Parallel lanes ordered by key. With more than one lane, events with the same <see cref="PublishOptions.Key"/> always
    /// go to the same lane and so keep their publish order; events without a key are spread round-robin.
    /// <see cref="Subscription{TEvent}.ConsumeAsync"/> runs one loop per lane. Default 1 (one FIFO queue).
    /// </summary>
    public int Lanes { get; init; } = 1;

    internal void Validate()
    {
        if (Capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Capacity), Capacity, $"SubscriptionOptions.Capacity must be at least 1 (subscription '{Name ?? Group}').");
        }

        if (Lanes is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(Lanes), Lanes, $"SubscriptionOptions.Lanes must be between 1 and 256 (subscription '{Name ?? Group}').");
        }

        if (!Enum.IsDefined(Overflow))
        {
            throw new ArgumentOutOfRangeException(nameof(Overflow), Overflow, "SubscriptionOptions.Overflow is not a known policy.");
        }

        if (Group is not null && string.IsNullOrWhiteSpace(Group))
        {
            throw new ArgumentException("SubscriptionOptions.Group must be null (no group) or a non-empty name.", nameof(Group));
        }
    }
}
