namespace Herald;

/// <summary>Where dead letters are kept. In memory by default; durable stores come with the durable transports.</summary>
public interface IDeadLetterStore
{
    /// <summary>Stores a dead letter.</summary>
    ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken);

    /// <summary>Lists dead letters, oldest first, optionally only those whose topic matches <paramref name="topic"/>.</summary>
    /// <param name="topic">A topic pattern to filter by, or null for all.</param>
    /// <param name="max">The most to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<DeadLetter>> ListAsync(TopicPattern? topic, int max, CancellationToken cancellationToken);

    /// <summary>Returns one dead letter, or null.</summary>
    ValueTask<DeadLetter?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>How many dead letters are stored.</summary>
    ValueTask<long> CountAsync(CancellationToken cancellationToken);

    /// <summary>Removes one dead letter; false when there was none with that id.</summary>
    ValueTask<bool> RemoveAsync(string id, CancellationToken cancellationToken);
}
