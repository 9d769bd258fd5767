namespace Herald;

/// <summary>
/// Lists, inspects and redrives dead letters. A redrive puts the event back into the queue of the handler that
/// failed it, as a first attempt; when that handler is not running here, the event is published on the bus again.
/// A redriven dead letter is removed from the store once it is back in a queue.
/// </summary>
public sealed class DeadLetters
{
    private readonly IDeadLetterStore _store;
    private readonly HandlerHost _host;
    private readonly EventBus _bus;

    internal DeadLetters(IDeadLetterStore store, HandlerHost host, EventBus bus)
    {
        _store = store;
        _host = host;
        _bus = bus;
    }

    /// <summary>Lists dead letters, oldest first.</summary>
    /// <param name="topicPattern">Only those whose topic matches this pattern; null for all.</param>
    /// <param name="max">The most to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public ValueTask<IReadOnlyList<DeadLetter>> ListAsync(string? topicPattern = null, int max = 100, CancellationToken cancellationToken = default) =>
        _store.ListAsync(topicPattern is null ? null : TopicPattern.Parse(topicPattern), max, cancellationToken);

    /// <summary>How many dead letters are stored.</summary>
    public ValueTask<long> CountAsync(CancellationToken cancellationToken = default) => _store.CountAsync(cancellationToken);

    /// <summary>One dead letter, or null.</summary>
    public ValueTask<DeadLetter?> GetAsync(string id, CancellationToken cancellationToken = default) => _store.GetAsync(id, cancellationToken);

    /// <summary>Redrives one dead letter. False when there is none with that id.</summary>
    public async ValueTask<bool> RedriveAsync(string id, CancellationToken cancellationToken = default)
    {
        DeadLetter? deadLetter = await _store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (deadLetter is null)
        {
            return false;
        }

        if (!await _host.TryRedeliverAsync(deadLetter, cancellationToken).ConfigureAwait(false))
        {
            await _bus.PublishAsync(deadLetter.Envelope.WithAttempt(1), cancellationToken).ConfigureAwait(false);
        }

        await _store.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Redrives every dead letter (whose topic matches <paramref name="topicPattern"/>) and returns how many.</summary>
    public async ValueTask<int> RedriveAllAsync(string? topicPattern = null, CancellationToken cancellationToken = default)
    {
        int redriven = 0;
        foreach (DeadLetter deadLetter in await ListAsync(topicPattern, int.MaxValue, cancellationToken).ConfigureAwait(false))
        {
            if (await RedriveAsync(deadLetter.Id, cancellationToken).ConfigureAwait(false))
            {
                redriven++;
            }
        }

        return redriven;
    }
}
