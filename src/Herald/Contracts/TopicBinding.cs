namespace Herald;

/// <summary>What an event type's <see cref="TopicAttribute"/> (or binding) resolved to, or why it did not.</summary>
/// <remarks><see cref="Slot"/> numbers the bindings of this process, so a bus can cache per type in an array.</remarks>
internal sealed record TopicBinding(string Topic, string? DataSchema, string? Error, int Version = 1)
{
    private static int _slots = -1;

    /// <summary>This binding's index in per-type caches.</summary>
    public int Slot { get; } = Interlocked.Increment(ref _slots);
}
