namespace Herald;

/// <summary>Helpers over <see cref="IEventStore"/>: typed appends and aggregates loaded from a snapshot and later events.</summary>
public static class EventStoreExtensions
{
    private const int PageSize = 500;

    /// <summary>
    /// Appends typed events (each type carries a <see cref="TopicAttribute"/>), made into envelopes at the current
    /// time of <paramref name="timeProvider"/> (default the system clock).
    /// </summary>
    /// <exception cref="InvalidTopicException">An event type has no topic.</exception>
    /// <exception cref="WrongExpectedVersionException">The stream is not at the expected version; nothing was written.</exception>
    public static Task<AppendResult> AppendEventsAsync(
        this IEventStore store, string streamId, ExpectedVersion expectedVersion, IEnumerable<object> events, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(events);
        DateTimeOffset now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        Envelope[] envelopes =
        [
            .. events.Select(e =>
            {
                ArgumentNullException.ThrowIfNull(e, nameof(events));
                TopicBinding binding = Topic.BindingOf(e.GetType());
                return new Envelope(binding.Topic, e, now, topicChecked: true) { DataSchema = binding.DataSchema, Subject = streamId };
            }),
        ];
        return store.AppendAsync(streamId, envelopes, expectedVersion, transaction: null, cancellationToken);
    }

    /// <summary>
    /// Loads an aggregate's state: the latest snapshot (or <paramref name="initial"/>), then every later event through
    /// <paramref name="apply"/>. Returns the state and the stream version it reflects: append the aggregate's new events
    /// with <c>ExpectedVersion.Exactly(version)</c>.
    /// </summary>
    public static async Task<(TState State, long Version)> LoadAggregateAsync<TState>(
        this IEventStore store, string streamId, TState initial, Func<TState, RecordedEvent, TState> apply, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(apply);
        Snapshot<TState>? snapshot = await store.LoadSnapshotAsync<TState>(streamId, cancellationToken).ConfigureAwait(false);
        TState state = snapshot is null ? initial : snapshot.State;
        long version = snapshot?.Version ?? 0;
        while (true)
        {
            IReadOnlyList<RecordedEvent> page = await store.ReadStreamAsync(streamId, version + 1, ReadDirection.Forwards, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (RecordedEvent recorded in page)
            {
                state = apply(state, recorded);
                version = recorded.Version;
            }

            if (page.Count < PageSize)
            {
                return (state, version);
            }
        }
    }
}
