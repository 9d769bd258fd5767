namespace Herald;

/// <summary>A snapshot of one topic gate.</summary>
/// <param name="Pattern">The gate's topic pattern.</param>
/// <param name="State">Paused, blocked, or resuming (delivering what it held).</param>
/// <param name="Held">Events the gate holds now.</param>
/// <param name="Behavior">What a blocked gate does with publishes.</param>
public readonly record struct GateInfo(string Pattern, GateState State, int Held, BlockBehavior Behavior);
