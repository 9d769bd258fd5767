namespace Herald;

/// <summary>What an append wrote.</summary>
/// <param name="NextExpectedVersion">The stream's version after the append: pass it as <see cref="ExpectedVersion.Exactly"/> to the next append.</param>
/// <param name="LastPosition">The global position of the last event written (0 when the append was empty).</param>
public readonly record struct AppendResult(long NextExpectedVersion, long LastPosition);
