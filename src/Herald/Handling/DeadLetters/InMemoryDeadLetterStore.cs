namespace Herald;

/// <summary>
/// The default dead-letter store: in memory, bounded (oldest evicted past <see cref="Capacity"/>, and counted in
/// <see cref="Evicted"/>), lost when the process ends.
/// </summary>
/// <param name="capacity">The most dead letters kept. Default 10,000.</param>
public sealed class InMemoryDeadLetterStore(int capacity = 10_000) : IDeadLetterStore
{
    private readonly Lock _lock = new();
    private readonly LinkedList<DeadLetter> _order = new();
    private readonly Dictionary<string, LinkedListNode<DeadLetter>> _byId = new(StringComparer.Ordinal);
    private long _evicted;

    /// <summary>The most dead letters kept.</summary>
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The dead-letter store needs room for at least one.");

    /// <summary>Dead letters evicted because the store was full (each was logged when it was added).</summary>
    public long Evicted => Interlocked.Read(ref _evicted);

    /// <inheritdoc />
    public ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        lock (_lock)
        {
            if (_byId.ContainsKey(deadLetter.Id))
            {
                throw new InvalidOperationException($"A dead letter with id '{deadLetter.Id}' is already stored.");
            }

            _byId[deadLetter.Id] = _order.AddLast(deadLetter);
            if (_order.Count > Capacity)
            {
                _byId.Remove(_order.First!.Value.Id);
                _order.RemoveFirst();
                _evicted++;
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<DeadLetter>> ListAsync(TopicPattern? topic, int max, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<DeadLetter> list = [.. _order.Where(d => topic is null || topic.IsMatch(d.Envelope.Type)).Take(max)];
            return ValueTask.FromResult(list);
        }
    }

    /// <inheritdoc />
    public ValueTask<DeadLetter?> GetAsync(string id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_byId.TryGetValue(id, out LinkedListNode<DeadLetter>? node) ? node.Value : null);
        }
    }

    /// <inheritdoc />
    public ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult((long)_order.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_byId.Remove(id, out LinkedListNode<DeadLetter>? node))
            {
                return ValueTask.FromResult(false);
            }

            _order.Remove(node);
            return ValueTask.FromResult(true);
        }
    }
}
