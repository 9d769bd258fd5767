namespace Herald;

/// <summary>What a blocked gate does with a publish to a matching topic.</summary>
public enum BlockBehavior
{
    /// <summary>The publisher gets a <see cref="TopicBlockedException"/>. The default.</summary>
    Throw = 0,

    /// <summary>The publish returns normally; the event is discarded, counted in <see cref="EventBusStats.Gated"/> and logged.</summary>
    Discard = 1,
}
