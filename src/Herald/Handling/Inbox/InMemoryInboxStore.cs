using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Herald;

/// <summary>
/// The default inbox: in memory and bounded. It remembers the most recent (consumer, event id) pairs it was given,
/// the oldest forgotten first once <see cref="Capacity"/> is reached (so a very late redelivery may run again;
/// durable inboxes come with the durable transports). Striped by key, so consumers running in parallel rarely meet
/// on a lock, and a claim allocates nothing once the stripes have grown.
/// </summary>
/// <param name="capacity">How many (consumer, id) pairs are remembered. Default 100,000.</param>
public sealed class InMemoryInboxStore(int capacity = 100_000) : IInboxStore
{
    private const int StripeCount = 16;

    // Ids that are UUIDs (every id Herald makes) are kept as 16 bytes and the consumer as a number: entries without
    // references, which the garbage collector neither traces nor card-marks however many there are. Other ids are
    // kept as strings, in stripes of their own.
    private readonly Stripe<UuidKey>[] _uuidStripes = CreateStripes<UuidKey>(capacity);
    private readonly Stripe<StringKey>[] _stringStripes = CreateStripes<StringKey>(capacity);
    private readonly ConcurrentDictionary<string, int> _consumers = new(StringComparer.Ordinal);
    private int _lastConsumer;

    /// <summary>How many (consumer, id) pairs are remembered.</summary>
    public int Capacity { get; } = capacity;

    /// <summary>How many pairs are remembered now.</summary>
    public int Count => _uuidStripes.Sum(s => s.Count) + _stringStripes.Sum(s => s.Count);

    /// <inheritdoc />
    public ValueTask<bool> TryBeginAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(eventId);
        bool added;
        if (TryParseUuid(eventId, out Guid uuid))
        {
            var key = new UuidKey(uuid, ConsumerNumber(consumer));
            added = _uuidStripes[(uint)key.GetHashCode() % StripeCount].TryAdd(key);
        }
        else
        {
            var key = new StringKey(consumer, eventId);
            added = _stringStripes[(uint)key.GetHashCode() % StripeCount].TryAdd(key);
        }

        return ValueTask.FromResult(added);
    }

    /// <summary>The claim of an id Herald made, by its UUID: no text to format or parse.</summary>
    internal bool TryBegin(string consumer, Guid uuid)
    {
        var key = new UuidKey(uuid, ConsumerNumber(consumer));
        return _uuidStripes[(uint)key.GetHashCode() % StripeCount].TryAdd(key);
    }

    /// <summary>Gives back a claim made by <see cref="TryBegin(string, Guid)"/>.</summary>
    internal void Abandon(string consumer, Guid uuid)
    {
        var key = new UuidKey(uuid, ConsumerNumber(consumer));
        _uuidStripes[(uint)key.GetHashCode() % StripeCount].Remove(key);
    }

    /// <inheritdoc />
    public ValueTask CompleteAsync(string consumer, string eventId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask AbandonAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(eventId);
        if (TryParseUuid(eventId, out Guid uuid))
        {
            var key = new UuidKey(uuid, ConsumerNumber(consumer));
            _uuidStripes[(uint)key.GetHashCode() % StripeCount].Remove(key);
        }
        else
        {
            var key = new StringKey(consumer, eventId);
            _stringStripes[(uint)key.GetHashCode() % StripeCount].Remove(key);
        }

        return ValueTask.CompletedTask;
    }

    private static Stripe<TKey>[] CreateStripes<TKey>(int capacity)
        where TKey : struct, IEquatable<TKey>
    {
        if (capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The inbox needs room for at least one id.");
        }

        int perStripe = Math.Max(1, (capacity + StripeCount - 1) / StripeCount);
        var stripes = new Stripe<TKey>[StripeCount];
        for (int i = 0; i < stripes.Length; i++)
        {
            stripes[i] = new Stripe<TKey>(perStripe);
        }

        return stripes;
    }

    private int ConsumerNumber(string consumer) =>
        _consumers.TryGetValue(consumer, out int number) ? number : _consumers.GetOrAdd(consumer, static (_, self) => Interlocked.Increment(ref self._lastConsumer), this);

    /// <summary>
    /// Whether <paramref name="eventId"/> is a UUID in the canonical lower-case form (as Herald writes them), so that
    /// its 16 bytes stand for the string exactly: ids are case-sensitive, and "A" and "a" parse alike.
    /// </summary>
    private static bool TryParseUuid(string eventId, out Guid uuid) =>
        Guid.TryParseExact(eventId, "D", out uuid) && eventId.AsSpan().IndexOfAnyInRange('A', 'F') < 0;

    /// <summary>A UUID id and a consumer number. The hash is seeded per process, so ids cannot be crafted to collide.</summary>
    private readonly record struct UuidKey(Guid Id, int Consumer)
    {
        public override int GetHashCode() => HashCode.Combine(Id, Consumer);
    }

    /// <summary>Any other id: the (randomized) string hashes, computed once.</summary>
    private readonly struct StringKey(string consumer, string id) : IEquatable<StringKey>
    {
        private readonly string _consumer = consumer;
        private readonly string _id = id;
        private readonly int _hash = HashCode.Combine(StringComparer.Ordinal.GetHashCode(consumer), StringComparer.Ordinal.GetHashCode(id));

        public bool Equals(StringKey other) =>
            _hash == other._hash && string.Equals(_id, other._id, StringComparison.Ordinal) && string.Equals(_consumer, other._consumer, StringComparison.Ordinal);

        public override bool Equals(object? obj) => obj is StringKey other && Equals(other);

        public override int GetHashCode() => _hash;
    }

    /// <summary>
    /// One stripe: a dictionary from key to ring slot, and a ring of keys in arrival order. When the ring is full the
    /// oldest slot is reused and its key forgotten, unless the key has since moved to a newer slot.
    /// </summary>
    private sealed class Stripe<TKey>(int capacity)
        where TKey : struct, IEquatable<TKey>
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<TKey, int> _slots = [];
        private TKey[] _ring = new TKey[Math.Min(capacity, 64)];
        private int _next;
        private int _used;

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _slots.Count;
                }
            }
        }

        public bool TryAdd(in TKey key)
        {
            lock (_lock)
            {
                ref int slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_slots, key, out bool exists);
                if (exists)
                {
                    return false;
                }

                slot = _next;
                if (_used == _ring.Length && _ring.Length < capacity)
                {
                    Array.Resize(ref _ring, Math.Min(capacity, _ring.Length * 2));
                    _next = _used;
                    slot = _next;
                }

                if (_used == _ring.Length)
                {
                    // The ring is full: forget the oldest key, unless it has been re-added since (a newer slot).
                    TKey oldest = _ring[_next];
                    if (_slots.TryGetValue(oldest, out int oldestSlot) && oldestSlot == _next)
                    {
                        _slots.Remove(oldest);
                    }
                }
                else
                {
                    _used++;
                }

                _ring[_next] = key;
                _next = (_next + 1) % _ring.Length;
                return true;
            }
        }

        public void Remove(in TKey key)
        {
            lock (_lock)
            {
                _slots.Remove(key);
            }
        }
    }
}
