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

    private readonly Stripe[] _stripes = CreateStripes(capacity);

    /// <summary>How many (consumer, id) pairs are remembered.</summary>
    public int Capacity { get; } = capacity;

    /// <summary>How many pairs are remembered now.</summary>
    public int Count => _stripes.Sum(s => s.Count);

    /// <inheritdoc />
    public ValueTask<bool> TryBeginAsync(string consumer, string eventId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(StripeOf(consumer, eventId).TryAdd((consumer, eventId)));

    /// <inheritdoc />
    public ValueTask CompleteAsync(string consumer, string eventId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask AbandonAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        StripeOf(consumer, eventId).Remove((consumer, eventId));
        return ValueTask.CompletedTask;
    }

    private static Stripe[] CreateStripes(int capacity)
    {
        if (capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The inbox needs room for at least one id.");
        }

        int perStripe = Math.Max(1, (capacity + StripeCount - 1) / StripeCount);
        var stripes = new Stripe[StripeCount];
        for (int i = 0; i < stripes.Length; i++)
        {
            stripes[i] = new Stripe(perStripe);
        }

        return stripes;
    }

    private Stripe StripeOf(string consumer, string eventId) =>
        _stripes[(uint)HashCode.Combine(StringComparer.Ordinal.GetHashCode(consumer), StringComparer.Ordinal.GetHashCode(eventId)) % StripeCount];

    /// <summary>
    /// One stripe: a dictionary from key to ring slot, and a ring of keys in arrival order. When the ring is full the
    /// oldest slot is reused and its key forgotten, unless the key has since moved to a newer slot.
    /// </summary>
    private sealed class Stripe(int capacity)
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<(string Consumer, string Id), int> _slots = [];
        private (string Consumer, string Id)[] _ring = new (string, string)[Math.Min(capacity, 64)];
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

        public bool TryAdd((string Consumer, string Id) key)
        {
            lock (_lock)
            {
                if (_slots.ContainsKey(key))
                {
                    return false;
                }

                if (_used == _ring.Length && _ring.Length < capacity)
                {
                    Array.Resize(ref _ring, Math.Min(capacity, _ring.Length * 2));
                    _next = _used;
                }

                if (_used == _ring.Length)
                {
                    (string Consumer, string Id) oldest = _ring[_next];
                    if (_slots.TryGetValue(oldest, out int slot) && slot == _next)
                    {
                        _slots.Remove(oldest);
                    }
                }
                else
                {
                    _used++;
                }

                _ring[_next] = key;
                _slots[key] = _next;
                _next = (_next + 1) % _ring.Length;
                return true;
            }
        }

        public void Remove((string Consumer, string Id) key)
        {
            lock (_lock)
            {
                _slots.Remove(key);
            }
        }
    }
}
