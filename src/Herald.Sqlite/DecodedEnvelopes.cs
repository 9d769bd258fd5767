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

    /// <summary>Whether a reader kept (or is decoding) the row at <paramref name="position"/> read as <paramref name="type"/>: its stored bytes will likely not be needed.</summary>
    public bool Holds(long position, Type? type) =>
        Volatile.Read(ref _entries[position & (Slots - 1)]) is { } entry && entry.Position == position && entry.Type == type;

    /// <summary>
    /// The envelope at <paramref name="position"/> read as <paramref name="type"/>: the kept one, or decoded here with
    /// <paramref name="decode"/> and kept. Readers that ask for a row another reader is decoding wait for that decode
    /// (a few microseconds) instead of decoding it too: readers woken by one commit read the same rows at the same
    /// moment, and checking before decoding let two or three of them decode every row. A decode that throws keeps
    /// nothing, and a reader that waited on it decodes the row itself (and meets the failure itself).
    /// </summary>
    public Envelope GetOrDecode<TState>(long position, Type? type, TState state, Func<TState, Envelope> decode)
    {
        ref Entry? slot = ref _entries[position & (Slots - 1)];
        Entry? entry = Volatile.Read(ref slot);
        if (entry is not null && entry.Position == position && entry.Type == type)
        {
            return Await(entry) ?? decode(state);
        }

        var mine = new Entry(position, type);
        Monitor.Enter(mine); // held until decoded: readers that find the entry wait on it
        bool held = true;
        try
        {
            Entry? seen = Interlocked.CompareExchange(ref slot, mine, entry);
            if (!ReferenceEquals(seen, entry) && seen is not null && seen.Position == position && seen.Type == type)
            {
                // Another reader took the slot for this row a moment earlier: wait for its decode instead.
                Monitor.Exit(mine);
                held = false;
                return Await(seen) ?? decode(state);
            }

            Envelope decoded = decode(state); // not kept if another row took the slot meanwhile
            mine.Envelope = decoded;
            return decoded;
        }
        finally
        {
            if (held)
            {
                Monitor.Exit(mine);
            }
        }
    }

    /// <summary>The entry's envelope, once the reader decoding it is done; null when that decode failed.</summary>
    private static Envelope? Await(Entry entry)
    {
        Envelope? done = entry.Envelope;
        if (done is null)
        {
            lock (entry)
            {
                done = entry.Envelope; // the decoding reader holds the entry until it is done
            }
        }

        return done;
    }

    /// <summary>A row's slot: its envelope once decoded; locked by the reader decoding it until then.</summary>
    private sealed class Entry(long position, Type? type)
    {
        private volatile Envelope? _envelope;

        public long Position => position;

        public Type? Type => type;

        public Envelope? Envelope
        {
            get => _envelope;
            set => _envelope = value;
        }
    }
}
