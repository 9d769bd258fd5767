namespace Herald;

/// <summary>The state of a topic gate.</summary>
public enum GateState
{
    /// <summary>Publishes to matching topics are held (accepted, not yet delivered) until the gate resumes.</summary>
    Paused = 0,

    /// <summary>Publishes to matching topics are refused (see <see cref="BlockBehavior"/>).</summary>
    Blocked = 1,

    /// <summary>The gate was resumed and is delivering what it held; new publishes queue behind them to keep order.</summary>
    Resuming = 2,
}
