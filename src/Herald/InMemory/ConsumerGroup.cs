namespace Herald.InMemory;

/// <summary>
/// The members of one consumer group that match one topic. Each event goes to one member: round-robin, skipping
/// members that are full; when every member is full the round-robin choice applies its overflow policy.
/// </summary>
internal sealed class ConsumerGroup(string name, MemoryQueue[] members)
{
    private int _next = -1;

    public string Name { get; } = name;

    public MemoryQueue[] Members { get; } = members;

    /// <summary>True when the event is settled; false with <paramref name="chosen"/> when every member is full.</summary>
    public bool TryWrite(Envelope envelope, out MemoryQueue chosen)
    {
        MemoryQueue[] members = Members;
        int start = (int)((uint)Interlocked.Increment(ref _next) % (uint)members.Length);
        for (int i = 0; i < members.Length; i++)
        {
            MemoryQueue member = members[(start + i) % members.Length];
            if (!member.IsDisposed && member.TryWrite(envelope))
            {
                chosen = member;
                return true;
            }
        }

        // Every member is full: the first live one from the round-robin start applies its overflow policy.
        for (int i = 0; i < members.Length; i++)
        {
            chosen = members[(start + i) % members.Length];
            if (!chosen.IsDisposed)
            {
                return false;
            }
        }

        chosen = members[start];
        return chosen.TryWrite(envelope); // all gone: counted as dropped (disposed) by the member
    }
}
