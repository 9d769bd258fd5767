namespace Herald;

/// <summary>
/// The default inbox: in memory, a bounded LRU of the most recent handled ids across all consumers (older ids are
/// forgotten, so a very late redelivery may run again; durable inboxes come with the durable transports).
/// </summary>
/// <param name="capacity">How many (consumer, id) pairs are remembered. Default 100,000.</param>
public sealed class InMemoryInboxStore(int capacity = 100_000) : IInboxStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string, string), LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recent = new();

    /// <summary>How many (consumer, id) pairs are remembered.</summary>
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The inbox needs room for at least one id.");

    /// <summary>How many pairs are remembered now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> TryBeginAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue((consumer, eventId), out LinkedListNode<Entry>? existing))
            {
                _recent.Remove(existing);
                _recent.AddLast(existing);
                return ValueTask.FromResult(false);
            }

            _entries[(consumer, eventId)] = _recent.AddLast(new Entry(consumer, eventId));
            while (_entries.Count > Capacity)
            {
                Entry oldest = _recent.First!.Value;
                _recent.RemoveFirst();
                _entries.Remove((oldest.Consumer, oldest.EventId));
            }

            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask CompleteAsync(string consumer, string eventId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask AbandonAsync(string consumer, string eventId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_entries.Remove((consumer, eventId), out LinkedListNode<Entry>? node))
            {
                _recent.Remove(node);
            }
        }

        return ValueTask.CompletedTask;
    }

    private sealed record Entry(string Consumer, string EventId);
}
