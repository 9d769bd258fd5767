namespace Herald.Sqlite;

/// <summary>
/// The envelopes this process decoded last, by log position and payload type, shared by its group readers: every
/// group reads every row, and readers woken by the same commit read the same rows moments apart, so a row is
/// decoded once instead of once per group. The groups then hand the same event object to their handlers, as the
/// in-memory transport does (events are to be treated as immutable: a handler that changed one would change it for the
/// other groups, and for a redelivery read while it is still kept). A fixed ring: a miss (a reader far behind, or a slot
/// taken by a newer row) decodes again.
/// </summary>
internal sealed class DecodedEnvelopes
{
    private const int Slots = 4096; // a power of two
    private readonly Entry?[] _entries = new Entry?[Slots];

    /// <summary>The envelope decoded at <paramref name="position"/> with its payload read as <paramref name="type"/>, when still kept.</summary>
    public bool TryGet(long position, Type? type, out Envelope envelope)
    {
        Entry? entry = Volatile.Read(ref _entries[position & (Slots - 1)]);
        if (entry is not null && entry.Position == position && entry.Type == type)
        {
            envelope = entry.Envelope;
            return true;
        }

        envelope = null!;
        return false;
    }

    /// <summary>Keeps <paramref name="envelope"/>, decoded at <paramref name="position"/> as <paramref name="type"/>, for the other readers.</summary>
    public void Add(long position, Type? type, Envelope envelope) =>
        Volatile.Write(ref _entries[position & (Slots - 1)], new Entry(position, type, envelope));

    private sealed record Entry(long Position, Type? Type, Envelope Envelope);
}
