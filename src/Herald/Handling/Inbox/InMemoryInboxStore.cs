using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Herald;

/// <summary>
/// The default inbox: in memory and bounded. It remembers, for each consumer, the most recent <see cref="Capacity"/>
/// event ids it was given, the oldest forgotten first (so a very late redelivery may run again; durable inboxes come
/// with the durable transports). Each consumer has a window of its own: a busy consumer never pushes a quiet one's
/// ids out, and consumers running in parallel never share a lock or a cache line. A claim allocates nothing once the
/// window has grown; a window takes about 29 bytes per remembered UUID (the id and where it is indexed, 20 bytes, and two
/// 4-byte index lanes), grown as it fills.
/// </summary>
/// <param name="capacity">
/// How many ids are remembered per consumer, 1 to <see cref="MaxCapacity"/>. Default 32,768 (about 0.9 MB for a full
/// window).
/// </param>
public sealed class InMemoryInboxStore(int capacity = InMemoryInboxStore.DefaultCapacity) : IInboxStore
{
    /// <summary>The default window per consumer: 32,768 ids.</summary>
    public const int DefaultCapacity = 32_768;

    /// <summary>
    /// The largest window per consumer: 16,777,216 ids (about 480 MB each; an index lane keeps a fingerprint of at least
    /// 7 bits beside the position).
    /// </summary>
    public const int MaxCapacity = 1 << 24;

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly Lock _making = new(); // one window per name, even when two deliveries ask first at once

    /// <summary>How many ids are remembered per consumer.</summary>
    public int Capacity { get; } = capacity switch
    {
        < 1 => throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The inbox needs room for at least one id."),
        > MaxCapacity => throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The inbox remembers at most 16,777,216 ids per consumer."),
        _ => capacity,
    };

    /// <summary>How many (consumer, id) pairs are remembered now, over all consumers.</summary>
    public int Count => _windows.Values.Sum(w => w.Count);

    /// <inheritdoc />
    public ValueTask<bool> TryBeginAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(eventId);
        Window window = WindowFor(consumer);
        bool added = TryParseUuid(eventId, out Guid uuid)
            ? window.TryBegin(uuid)
            : window.TryBegin(eventId);
        return ValueTask.FromResult(added);
    }

    /// <inheritdoc />
    public ValueTask CompleteAsync(string consumer, string eventId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask AbandonAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(eventId);
        Window window = WindowFor(consumer);
        if (TryParseUuid(eventId, out Guid uuid))
        {
            window.Abandon(uuid);
        }
        else
        {
            window.Abandon(eventId);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// A consumer's window (the same name, the same window), made on first use. The idempotency step keeps it, so a
    /// claim of an id Herald made goes straight to it by the id's UUID: no lookup, no text to format or parse.
    /// </summary>
    internal Window WindowFor(string consumer)
    {
        if (_windows.TryGetValue(consumer, out Window? window))
        {
            return window;
        }

        lock (_making)
        {
            return _windows.TryGetValue(consumer, out window) ? window : _windows[consumer] = new Window(Capacity);
        }
    }

    /// <summary>
    /// Whether <paramref name="eventId"/> is a UUID in the canonical lower-case form (as Herald writes them), so that
    /// its 16 bytes stand for the string exactly: ids are case-sensitive, and "A" and "a" parse alike.
    /// </summary>
    private static bool TryParseUuid(string eventId, out Guid uuid) =>
        Guid.TryParseExact(eventId, "D", out uuid) && eventId.AsSpan().IndexOfAnyInRange('A', 'F') < 0;

    /// <summary>One consumer's remembered ids: UUIDs as 16 bytes (entries the collector never traces), others as text.</summary>
    internal sealed class Window(int capacity)
    {
        private readonly RecentIds<UuidKey> _uuids = new(capacity);
        private RecentIds<StringKey>? _strings;

        /// <summary>Claims a UUID id: false if this consumer was given it already (and it is still remembered).</summary>
        public bool TryBegin(Guid uuid) => _uuids.TryAdd(new UuidKey(uuid));

        /// <summary>Gives back a claim made by <see cref="TryBegin(Guid)"/>.</summary>
        public void Abandon(Guid uuid) => _uuids.Remove(new UuidKey(uuid));

        /// <summary>Claims an id that is not a canonical UUID, by its text.</summary>
        public bool TryBegin(string id) => Strings.TryAdd(new StringKey(id));

        /// <summary>Gives back a claim made by <see cref="TryBegin(string)"/>.</summary>
        public void Abandon(string id) => Strings.Remove(new StringKey(id));

        public int Count => _uuids.Count + (Volatile.Read(ref _strings)?.Count ?? 0);

        /// <summary>Made on the first id that is not a UUID: most consumers only ever see the UUIDs Herald makes.</summary>
        private RecentIds<StringKey> Strings =>
            Volatile.Read(ref _strings) ?? Interlocked.CompareExchange(ref _strings, new RecentIds<StringKey>(capacity), null) ?? _strings!;
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
    /// The newest ids of one window, of one kind: a ring of keys in arrival order, and an index of 64-byte buckets over
    /// it. A bucket holds 15 lanes and a count: a lane is a key's ring position (plus one; 0 is free) under a fingerprint
    /// of its hash, and the count is how many live keys found the bucket full and went on to a later one. Lanes are twice
    /// the keys, so a bucket is rarely full. A claim reads one bucket (64 bytes, a line's worth; the array's start is
    /// not aligned, so mostly parts of two lines: aligning it measured no faster; a vector compare finds the lanes
    /// whose fingerprint matches, and only those send it to the ring to compare keys) and writes the ring's next slot;
    /// when the ring is full, the slot's old key is forgotten by clearing the lane the slot remembers (a store, with no
    /// read to wait for). The index is all a lookup reads at random: 8.5 bytes per key, a quarter of a table of keys.
    /// </summary>
    internal sealed class RecentIds<TKey>
        where TKey : struct, IEquatable<TKey>
    {
        private const int FirstLength = 1_024;
        private const int GrowthFactor = 8;
        private const int Lanes = 16;
        private const int Entries = Lanes - 1;                // lane 15 counts the keys that went on past the bucket
        private const uint EntryLanes = (1u << Entries) - 1;
        private const int None = -1;                          // a slot whose key was given back: no lane to clear
        private const int WentOn = 1 << 30;                   // a slot whose lane is past its home bucket

        private readonly int _capacity;
        private readonly int _positionBits;                   // enough for every ring position plus one
        private Slot[] _ring;
        private uint[] _index;
        private int _bucketCount;
        private WindowCursor _at; // the lock is held for a claim (~20 ns), by one consumer's loops; one atomic per claim

        public RecentIds(int capacity)
        {
            _capacity = capacity;
            _positionBits = 32 - BitOperations.LeadingZeroCount((uint)capacity);
            int length = Math.Min(capacity, FirstLength);
            _ring = new Slot[length];
            _bucketCount = BucketsFor(length);
            _index = new uint[_bucketCount * Lanes];
        }

        public int Count => Volatile.Read(ref _at.Count);

        /// <summary>The buckets' counts summed: each live key counts once per full bucket it went past (for tests).</summary>
        internal long PassedBuckets()
        {
            Enter();
            try
            {
                long passed = 0;
                for (int at = Entries; at < _index.Length; at += Lanes)
                {
                    passed += _index[at];
                }

                return passed;
            }
            finally
            {
                Exit();
            }
        }

        public bool TryAdd(in TKey key)
        {
            uint hash = Mix(key.GetHashCode());
            Enter();
            try
            {
                if (Find(key, hash) >= 0)
                {
                    return false;
                }

                if (_at.Arrivals == _ring.Length && _ring.Length < _capacity)
                {
                    Grow();
                }
                else if (_at.Arrivals >= _ring.Length)
                {
                    Forget(_at.Next); // full: the oldest goes
                }

                _ring[_at.Next] = new Slot(key, Place(hash, _at.Next));
                _at.Next = _at.Next + 1 == _ring.Length ? 0 : _at.Next + 1;
                _at.Arrivals++;
                Volatile.Write(ref _at.Count, _at.Count + 1);
                return true;
            }
            finally
            {
                Exit();
            }
        }

        public void Remove(in TKey key)
        {
            uint hash = Mix(key.GetHashCode());
            Enter();
            try
            {
                int lane = Find(key, hash);
                if (lane >= 0)
                {
                    int position = (int)(_index[lane] & PositionMask) - 1;
                    Clear(_ring[position].Lane, hash);
                    _ring[position].Lane = None;
                }
            }
            finally
            {
                Exit();
            }
        }

        private void Enter()
        {
            if (Interlocked.CompareExchange(ref _at.Busy, 1, 0) != 0)
            {
                EnterContended();
            }
        }

        private void Exit() => Volatile.Write(ref _at.Busy, 0);

        private void EnterContended()
        {
            var spin = default(SpinWait);
            do
            {
                spin.SpinOnce();
            }
            while (Volatile.Read(ref _at.Busy) != 0 || Interlocked.CompareExchange(ref _at.Busy, 1, 0) != 0);
        }

        private uint PositionMask => (1u << _positionBits) - 1;

        /// <summary>Twice as many lanes as keys: a bucket holds 7.5 live keys on average, and is full about 1% of the time.</summary>
        private static int BucketsFor(int ringLength) => (int)(((long)ringLength * 2 + Entries - 1) / Entries);

        /// <summary>The key's hash, its bits spread: the high ones choose the bucket, the low ones make the fingerprint.</summary>
        private static uint Mix(int hash) => (uint)hash * 0x9E3779B1u;

        private int HomeOf(uint hash) => (int)(((ulong)hash * (uint)_bucketCount) >> 32);

        /// <summary>The fingerprint: the hash's low bits above the position bits, never 0 (so it never matches a free lane).</summary>
        private uint FingerprintOf(uint hash)
        {
            uint fingerprint = hash & (uint.MaxValue >> _positionBits);
            return fingerprint == 0 ? 1u : fingerprint;
        }

        private int Next(int bucket) => bucket + 1 == _bucketCount ? 0 : bucket + 1;

        /// <summary>The index lane that holds <paramref name="key"/>, or -1.</summary>
        private int Find(in TKey key, uint hash)
        {
            uint[] index = _index;
            int positionBits = _positionBits;
            uint mask = PositionMask;
            Vector512<uint> wanted = Vector512.Create(FingerprintOf(hash));
            int bucket = HomeOf(hash);
            while (true)
            {
                int at = bucket * Lanes;
                Vector512<uint> lanes = Vector512.Create<uint>(index.AsSpan(at, Lanes));
                uint hits = (uint)Vector512.Equals(Vector512.ShiftRightLogical(lanes, positionBits), wanted).ExtractMostSignificantBits() & EntryLanes;
                while (hits != 0)
                {
                    int lane = at + BitOperations.TrailingZeroCount(hits);
                    if (_ring[(int)(index[lane] & mask) - 1].Key.Equals(key))
                    {
                        return lane;
                    }

                    hits &= hits - 1;
                }

                if (index[at + Entries] == 0)
                {
                    return -1; // no live key went on from here
                }

                bucket = Next(bucket);
            }
        }

        /// <summary>Puts ring <paramref name="position"/> in the first free lane from its home bucket on; returns the lane.</summary>
        private int Place(uint hash, int position)
        {
            uint[] index = _index;
            uint entry = (FingerprintOf(hash) << _positionBits) | (uint)(position + 1);
            int home = HomeOf(hash);
            int bucket = home;
            while (true)
            {
                int at = bucket * Lanes;
                Vector512<uint> lanes = Vector512.Create<uint>(index.AsSpan(at, Lanes));
                uint free = (uint)Vector512.Equals(lanes, Vector512<uint>.Zero).ExtractMostSignificantBits() & EntryLanes;
                if (free != 0)
                {
                    int lane = at + BitOperations.TrailingZeroCount(free);
                    index[lane] = entry;
                    return bucket == home ? lane : lane | WentOn;
                }

                index[at + Entries]++;
                bucket = Next(bucket);
            }
        }

        /// <summary>Forgets the key in ring slot <paramref name="position"/>, unless it was given back.</summary>
        private void Forget(int position)
        {
            int lane = _ring[position].Lane;
            if (lane != None)
            {
                Clear(lane, (lane & WentOn) == 0 ? 0 : Mix(_ring[position].Key.GetHashCode()));
            }
        }

        /// <summary>Frees a lane; for one past its home bucket, the counts of the full buckets it passed go down.</summary>
        private void Clear(int lane, uint hash)
        {
            int at = lane & ~WentOn;
            _index[at] = 0;
            if ((lane & WentOn) != 0)
            {
                for (int bucket = HomeOf(hash), last = at / Lanes; bucket != last; bucket = Next(bucket))
                {
                    _index[(bucket * Lanes) + Entries]--;
                }
            }

            Volatile.Write(ref _at.Count, _at.Count - 1);
        }

        /// <summary>
        /// Grows a full ring below its capacity. It has never wrapped (only a ring at capacity reuses slots), so its
        /// keys are in arrival order from slot 0 and keep their positions, and the next goes after them.
        /// </summary>
        private void Grow()
        {
            // Few, large steps (1,024 -> 8,192 -> 65,536 ...): each step re-places every key (its hash recomputed).
            int length = (int)Math.Min(_capacity, (long)_ring.Length * GrowthFactor);
            _at.Next = _ring.Length;
            Array.Resize(ref _ring, length);
            _bucketCount = BucketsFor(length);
            _index = new uint[_bucketCount * Lanes];
            for (int position = 0; position < _at.Next; position++)
            {
                if (_ring[position].Lane != None)
                {
                    _ring[position].Lane = Place(Mix(_ring[position].Key.GetHashCode()), position);
                }
            }
        }

        /// <summary>A ring slot: the key, and the index lane it is in (<see cref="None"/> once given back).</summary>
        private struct Slot(TKey key, int lane)
        {
            public TKey Key = key;
            public int Lane = lane;
        }
    }
}
