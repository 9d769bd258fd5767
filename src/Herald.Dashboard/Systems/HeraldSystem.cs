namespace Herald.Dashboard.Systems;

/// <summary>
/// The operator's view of one Herald system (a SQLite file, a RabbitMQ broker, or the application's own bus): what the
/// <c>herald</c> command and the dashboard read and act on. Implementations never expose secrets: <see cref="Name"/>
/// is safe to show.
/// </summary>
internal abstract class HeraldSystem : IAsyncDisposable
{
    /// <summary>What the system is, without credentials (for example <c>sqlite herald.db</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Whether <see cref="ReadEventsAsync"/> reads a log that reaches back before the view started.</summary>
    public abstract bool HasLog { get; }

    /// <summary>The application's topic gates when the view runs inside it; null otherwise (gates live in the running bus).</summary>
    public virtual TopicGates? Gates => null;

    /// <summary>The position of the newest event; reading after it returns only what comes next.</summary>
    public abstract Task<long> GetHeadAsync(CancellationToken cancellationToken);

    /// <summary>Events after <paramref name="after"/>, oldest first, at most <paramref name="max"/>, matching <paramref name="pattern"/> when given.</summary>
    public abstract Task<IReadOnlyList<ObservedEvent>> ReadEventsAsync(long after, int max, TopicPattern? pattern, CancellationToken cancellationToken);

    /// <summary>The newest <paramref name="max"/> events (matching <paramref name="pattern"/> when given), oldest first.</summary>
    public abstract Task<IReadOnlyList<ObservedEvent>> ReadLatestAsync(int max, TopicPattern? pattern, CancellationToken cancellationToken);

    /// <summary>One event by id with its deliveries, or null when the view no longer holds it.</summary>
    public abstract Task<EventDetail?> GetEventAsync(string id, CancellationToken cancellationToken);

    /// <summary>Publishes an envelope; completes when the system accepted it.</summary>
    public abstract Task PublishAsync(Envelope envelope, CancellationToken cancellationToken);

    /// <summary>Dead letters, oldest first.</summary>
    public abstract Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(TopicPattern? pattern, int max, CancellationToken cancellationToken);

    /// <summary>One dead letter, or null.</summary>
    public abstract Task<DeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// The id and topic of every dead letter matching <paramref name="pattern"/>, oldest first, for bulk commands and
    /// counts: a system that can (SQLite) reads them a page at a time without loading envelopes, so memory follows the
    /// page, not the number of dead letters or their size.
    /// </summary>
    public virtual async IAsyncEnumerable<(string Id, string Topic)> ListDeadLetterIdsAsync(TopicPattern? pattern, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (DeadLetter letter in await ListDeadLettersAsync(pattern, int.MaxValue, cancellationToken).ConfigureAwait(false))
        {
            yield return (letter.Id, letter.Envelope.Type);
        }
    }

    /// <summary>
    /// <see cref="ListDeadLetterIdsAsync"/> for a store that numbers its dead letters: <paramref name="page"/> reads
    /// up to the given count of (sequence number, id, topic) after a sequence number, in order; a page at a time, so
    /// the caller acts on one before the next is read.
    /// </summary>
    protected static async IAsyncEnumerable<(string Id, string Topic)> PagedDeadLetterIdsAsync(
        Func<long, int, CancellationToken, Task<IReadOnlyList<(long Seq, string Id, string Topic)>>> page,
        TopicPattern? pattern,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        const int Page = 1000;
        long after = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IReadOnlyList<(long Seq, string Id, string Topic)> rows = await page(after, Page, cancellationToken).ConfigureAwait(false);
            foreach ((long seq, string id, string topic) in rows)
            {
                after = seq;
                if (pattern is null || pattern.IsMatch(topic))
                {
                    yield return (id, topic);
                }
            }

            if (rows.Count < Page)
            {
                yield break;
            }

            await Task.Yield();
        }
    }

    /// <summary>Sends a dead letter back to the consumer that failed it, as a first attempt; false when there is none with that id.</summary>
    public abstract Task<bool> RedriveAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes a dead letter for good; false when there is none with that id.</summary>
    public abstract Task<bool> PurgeAsync(string id, CancellationToken cancellationToken);

    /// <summary>Topics, groups and members, with depths and rates.</summary>
    public abstract Task<TopologyView> GetTopologyAsync(CancellationToken cancellationToken);

    /// <summary>Running totals and latencies since the last call (see <see cref="Counters"/>).</summary>
    public abstract Task<Counters> ReadCountersAsync(CancellationToken cancellationToken);

    /// <summary>Event-store streams; systems without an event store say so.</summary>
    /// <exception cref="NotSupportedException">This system has no event store.</exception>
    public virtual Task<IReadOnlyList<StreamView>> ListStreamsAsync(int max, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{Name} has no event store: streams live in a Herald SQLite file (--sqlite) or PostgreSQL schema (--postgres).");

    /// <summary>The events of one stream from <paramref name="fromVersion"/>.</summary>
    /// <exception cref="NotSupportedException">This system has no event store.</exception>
    public virtual Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, long fromVersion, int max, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{Name} has no event store: streams live in a Herald SQLite file (--sqlite) or PostgreSQL schema (--postgres).");

    /// <inheritdoc />
    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
