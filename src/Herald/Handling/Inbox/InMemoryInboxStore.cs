using System.Collections.Concurrent;
using System.Numerics;

namespace Herald;

/// <summary>
/// The default inbox: in memory and bounded. It remembers, for each consumer, the most recent <see cref="Capacity"/>
/// event ids it was given, the oldest forgotten first (so a very late redelivery may run again; durable inboxes come
/// with the durable transports). Each consumer has a window of its own: a busy consumer never pushes a quiet one's
/// ids out, and consumers running in parallel never share a lock or a cache line. A claim allocates nothing once the
/// window has grown; a window takes about 32 bytes per remembered UUID (the id and two index slots), grown as it fills.
/// </summary>
/// <param name="capacity">How many ids are remembered per consumer. Default 32,768 (about 1 MB for a full window).</param>
public sealed class InMemoryInboxStore(int capacity = InMemoryInboxStore.DefaultCapacity) : IInboxStore
{
    /// <summary>The default window per consumer: 32,768 ids.</summary>
    public const int DefaultCapacity = 32_768;

    private readonly ConcurrentDictionary<string, int> _numbers = new(StringComparer.Ordinal);
    private readonly Lock _grow = new();
    private Window[] _windows = [];

    /// <summary>How many ids are remembered per consumer.</summary>
    public int Capacity { get; } = capacity >= 1
        ? capacity
        : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The inbox needs room for at least one id.");

    /// <summary>How many (consumer, id) pairs are remembered now, over all consumers.</summary>
    public int Count => Volatile.Read(ref _windows).Sum(w => w.Count);

    /// <inheritdoc />
    public ValueTask<bool> TryBeginAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(eventId);
        Window window = WindowOf(ConsumerNumberOf(consumer));
        bool added = TryParseUuid(eventId, out Guid uuid)
            ? window.Uuids.TryAdd(new UuidKey(uuid))
            : window.Strings.TryAdd(new StringKey(eventId));
        return ValueTask.FromResult(added);
    }

    /// <inheritdoc />
    public ValueTask CompleteAsync(string consumer, string eventId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask AbandonAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(eventId);
        Window window = WindowOf(ConsumerNumberOf(consumer));
        if (TryParseUuid(eventId, out Guid uuid))
        {
            window.Uuids.Remove(new UuidKey(uuid));
        }
        else
        {
            window.Strings.Remove(new StringKey(eventId));
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The claim of an id Herald made, by its UUID and the consumer's number: no text to format or parse.</summary>
    internal bool TryBegin(int consumer, Guid uuid) => WindowOf(consumer).Uuids.TryAdd(new UuidKey(uuid));

    /// <summary>Gives back a claim made by <see cref="TryBegin(int, Guid)"/>.</summary>
    internal void Abandon(int consumer, Guid uuid) => WindowOf(consumer).Uuids.Remove(new UuidKey(uuid));

    /// <summary>The number of a consumer's window (the same name, the same number), made on first use.</summary>
    internal int ConsumerNumberOf(string consumer)
    {
        if (_numbers.TryGetValue(consumer, out int number))
        {
            return number;
        }

        lock (_grow)
        {
            if (_numbers.TryGetValue(consumer, out number))
            {
                return number;
            }

            Window[] windows = _windows;
            number = windows.Length;
            Volatile.Write(ref _windows, [.. windows, new Window(Capacity)]); // published before the number is
            _numbers[consumer] = number;
            return number;
        }
    }

    private Window WindowOf(int consumer) => Volatile.Read(ref _windows)[consumer];

    /// <summary>
    /// Whether <paramref name="eventId"/> is a UUID in the canonical lower-case form (as Herald writes them), so that
    /// its 16 bytes stand for the string exactly: ids are case-sensitive, and "A" and "a" parse alike.
    /// </summary>
    private static bool TryParseUuid(string eventId, out Guid uuid) =>
        Guid.TryParseExact(eventId, "D", out uuid) && eventId.AsSpan().IndexOfAnyInRange('A', 'F') < 0;

    /// <summary>One consumer's remembered ids: UUIDs as 16 bytes (entries the collector never traces), others as text.</summary>
    private sealed class Window(int capacity)
    {
        private RecentIds<StringKey>? _strings;

        public RecentIds<UuidKey> Uuids { get; } = new(capacity);

        /// <summary>Made on the first id that is not a UUID: most consumers only ever see the UUIDs Herald makes.</summary>
        public RecentIds<StringKey> Strings =>
            Volatile.Read(ref _strings) ?? Interlocked.CompareExchange(ref _strings, new RecentIds<StringKey>(capacity), null) ?? _strings!;

        public int Count => Uuids.Count + (Volatile.Read(ref _strings)?.Count ?? 0);
    }

    /// <summary>A UUID id. The hash is seeded per process, so ids cannot be crafted to collide.</summary>
    private readonly record struct UuidKey(Guid Id)
    {
        public override int GetHashCode() => HashCode.Combine(Id);
    }

    /// <summary>Any other id: the (randomized) string hash, computed once.</summary>
    private readonly struct StringKey(string id) : IEquatable<StringKey>
    {
        private readonly string _id = id;
        private readonly int _hash = StringComparer.Ordinal.GetHashCode(id);

        public bool Equals(StringKey other) => _hash == other._hash && string.Equals(_id, other._id, StringComparison.Ordinal);

        public override bool Equals(object? obj) => obj is StringKey other && Equals(other);

        public override int GetHashCode() => _hash;
    }

    /// <summary>
    /// The newest ids of one window, of one kind: a ring of keys in arrival order, and an open-addressing index over it (linear probing; each index
    /// entry is the key's hash and its ring position, so a probe compares hashes without touching the ring). When the
    /// ring is full the oldest slot is reused and its key forgotten, unless it was given back (then its index entry is
    /// already gone) or re-added since (then its index entry points at the newer slot). A claim touches one index line
    /// and the ring's next slot; a dictionary touched four or five scattered lines, most of them cache misses.
    /// </summary>
    internal sealed class RecentIds<TKey>(int capacity)
        where TKey : struct, IEquatable<TKey>
    {
        private const int FirstLength = 1_024;
        private const int GrowthFactor = 8;

        private TKey[] _ring = new TKey[Math.Min(capacity, FirstLength)];
        private long[] _index = new long[IndexLength(Math.Min(capacity, FirstLength))];
        private int _next;
        private int _used;
        private int _count;
        private int _busy; // a spin lock: held for a claim (~100 ns), by one consumer's loops; one atomic per claim

        public int Count => Volatile.Read(ref _count);

        public bool TryAdd(in TKey key)
        {
            int hash = key.GetHashCode();
            Enter();
            try
            {
                if (Find(key, hash) >= 0)
                {
                    return false;
                }

                if (_used == _ring.Length)
                {
                    if (_ring.Length < capacity)
                    {
                        Grow();
                    }
                    else
                    {
                        Forget(_next); // full: the oldest goes
                    }
                }

                if (_used < _ring.Length)
                {
                    _used++;
                }

                _ring[_next] = key;
                Insert(hash, _next);
                _next = _next + 1 == _ring.Length ? 0 : _next + 1;
                return true;
            }
            finally
            {
                Exit();
            }
        }

        public void Remove(in TKey key)
        {
            int hash = key.GetHashCode();
            Enter();
            try
            {
                int slot = Find(key, hash);
                if (slot >= 0)
                {
                    Delete(slot);
                }
            }
            finally
            {
                Exit();
            }
        }

        private void Enter()
        {
            if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
            {
                EnterContended();
            }
        }

        private void Exit() => Volatile.Write(ref _busy, 0);

        private void EnterContended()
        {
            var spin = default(SpinWait);
            do
            {
                spin.SpinOnce();
            }
            while (Volatile.Read(ref _busy) != 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0);
        }

        private static int IndexLength(int ringLength) => (int)BitOperations.RoundUpToPowerOf2((uint)ringLength * 2);

        private static long IndexEntry(int hash, int position) => ((long)hash << 32) | (uint)(position + 1);

        /// <summary>The index slot of <paramref name="key"/>, or -1.</summary>
        private int Find(in TKey key, int hash)
        {
            int mask = _index.Length - 1;
            for (int i = hash & mask; ; i = (i + 1) & mask)
            {
                long entry = _index[i];
                if (entry == 0)
                {
                    return -1;
                }

                if ((int)(entry >> 32) == hash && _ring[(int)entry - 1].Equals(key))
                {
                    return i;
                }
            }
        }

        private void Insert(int hash, int position)
        {
            int mask = _index.Length - 1;
            int i = hash & mask;
            while (_index[i] != 0)
            {
                i = (i + 1) & mask;
            }

            _index[i] = IndexEntry(hash, position);
            Volatile.Write(ref _count, _count + 1);
        }

        /// <summary>Removes the index entry that points at ring <paramref name="position"/>, if there is one.</summary>
        private void Forget(int position)
        {
            int mask = _index.Length - 1;
            long wanted = (uint)(position + 1);
            for (int i = _ring[position].GetHashCode() & mask; _index[i] != 0; i = (i + 1) & mask)
            {
                if ((uint)_index[i] == wanted)
                {
                    Delete(i);
                    return;
                }
            }
        }

        /// <summary>Deletes an index slot, shifting later entries of its probe run back so no lookup stops early.</summary>
        private void Delete(int slot)
        {
            int mask = _index.Length - 1;
            int hole = slot;
            for (int j = (hole + 1) & mask; _index[j] != 0; j = (j + 1) & mask)
            {
                int home = (int)(_index[j] >> 32) & mask;

                // The entry at j may move into the hole unless its home lies cyclically in (hole, j].
                bool stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
                if (!stays)
                {
                    _index[hole] = _index[j];
                    hole = j;
                }
            }

            _index[hole] = 0;
            Volatile.Write(ref _count, _count - 1);
        }

        /// <summary>
        /// Grows a full ring below its capacity. It has never wrapped (only a ring at capacity reuses slots), so its
        /// keys are in arrival order from slot 0, and the next goes after them.
        /// </summary>
        private void Grow()
        {
            // Few, large steps (1,024 -> 8,192 -> 65,536 ...): each step re-indexes every id, with a cache miss each.
            int length = (int)Math.Min(capacity, (long)_ring.Length * GrowthFactor);
            _next = _ring.Length;
            Array.Resize(ref _ring, length);
            long[] old = _index;
            _index = new long[IndexLength(length)];
            int mask = _index.Length - 1;
            foreach (long entry in old)
            {
                if (entry != 0)
                {
                    int i = (int)(entry >> 32) & mask;
                    while (_index[i] != 0)
                    {
                        i = (i + 1) & mask;
                    }

                    _index[i] = entry;
                }
            }
        }
    }
}
