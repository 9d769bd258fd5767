namespace Herald;

/// <summary>What the topic gates did with a publish.</summary>
internal enum GateOutcome
{
    /// <summary>No gate applies: deliver the event.</summary>
    Pass = 0,

    /// <summary>A paused gate holds the event (accepted; delivered on resume).</summary>
    Held = 1,

    /// <summary>A blocked gate with <see cref="BlockBehavior.Discard"/> discarded it (counted as gated).</summary>
    Discarded = 2,
}
