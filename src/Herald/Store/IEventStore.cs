using System.Data.Common;

namespace Herald;

/// <summary>
/// An event store: streams of events with versions and optimistic concurrency, one global order over all streams
/// (<c>$all</c>), stream metadata, soft delete, snapshots, and catch-up subscriptions with named checkpoints.
/// </summary>
/// <remarks>
/// Stream versions start at 1 (a stream with no event is at version 0); global positions start at 1 and increase
/// with every appended event, with no gap visible to a reader that reads in order.
/// </remarks>
public interface IEventStore
{
    /// <summary>
    /// Appends <paramref name="events"/> to <paramref name="streamId"/> atomically (all or none), if the stream is as
    /// <paramref name="expectedVersion"/> says.
    /// </summary>
    /// <param name="streamId">The stream, e.g. <c>order-42</c> (the part before the first <c>-</c> is its category).</param>
    /// <param name="events">The events, in order. Their ids are kept.</param>
    /// <param name="expectedVersion">What the stream must be at; see <see cref="ExpectedVersion"/>.</param>
    /// <param name="transaction">
    /// The caller's open transaction on the store's database, to commit the events with the caller's own writes
    /// (the outbox pattern), or null for a transaction of the store's own.
    /// </param>
    /// <param name="cancellationToken">Cancels the append before it commits.</param>
    /// <exception cref="WrongExpectedVersionException">The stream is not at the expected version; nothing was written.</exception>
    Task<AppendResult> AppendAsync(string streamId, IReadOnlyList<Envelope> events, ExpectedVersion expectedVersion, DbTransaction? transaction = null, CancellationToken cancellationToken = default);

    /// <summary>Reads up to <paramref name="maxCount"/> events of one stream from version <paramref name="fromVersion"/> (inclusive).</summary>
    /// <param name="streamId">The stream.</param>
    /// <param name="fromVersion">The first version to read; reading backwards, <see cref="long.MaxValue"/> starts at the end.</param>
    /// <param name="direction">Forwards (older first) or backwards (newer first).</param>
    /// <param name="maxCount">At most this many events.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamId, long fromVersion, ReadDirection direction, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Reads up to <paramref name="maxCount"/> events of every stream in global order, from <paramref name="fromPosition"/> (inclusive).</summary>
    Task<IReadOnlyList<RecordedEvent>> ReadAllAsync(long fromPosition, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>The position of the newest event in the store (0 when it is empty).</summary>
    Task<long> GetLastPositionAsync(CancellationToken cancellationToken = default);

    /// <summary>The stream's version, metadata and deletion state; version 0 for a stream that never had an event.</summary>
    Task<StreamInfo> GetStreamAsync(string streamId, CancellationToken cancellationToken = default);

    /// <summary>Sets how much of the stream is kept; events outside the bounds are deleted now and on later appends.</summary>
    Task SetStreamMetadataAsync(string streamId, StreamMetadata metadata, CancellationToken cancellationToken = default);

    /// <summary>
    /// Soft-deletes a stream: its events are removed, its version is kept, and a later append continues after it (so
    /// versions are never reused). <c>$all</c> no longer holds the removed events.
    /// </summary>
    /// <exception cref="WrongExpectedVersionException">The stream is not at the expected version.</exception>
    Task DeleteStreamAsync(string streamId, ExpectedVersion expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="snapshot"/> as the stream's latest snapshot (replacing an older one).</summary>
    Task SaveSnapshotAsync<TState>(Snapshot<TState> snapshot, CancellationToken cancellationToken = default);

    /// <summary>Loads the stream's latest snapshot, or null when there is none.</summary>
    /// <exception cref="EventDecodingException">The stored state cannot be read as <typeparamref name="TState"/>.</exception>
    Task<Snapshot<TState>?> LoadSnapshotAsync<TState>(string streamId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads every event from <paramref name="fromPosition"/> (inclusive) on: the history first, then events as they are
    /// appended, in global order, with no gap and no duplicate at the switch. Runs until cancelled.
    /// </summary>
    /// <param name="fromPosition">The first position to read (1 for everything; a checkpoint + 1 to resume).</param>
    /// <param name="category">Only streams of this category (<c>order</c> matches <c>order-42</c>); null for all.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    IAsyncEnumerable<RecordedEvent> SubscribeAsync(long fromPosition, string? category, CancellationToken cancellationToken);

    /// <summary>The position stored under <paramref name="name"/> (a subscription or projection), or 0 when none is.</summary>
    Task<long> LoadCheckpointAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="position"/> under <paramref name="name"/>.</summary>
    Task SaveCheckpointAsync(string name, long position, CancellationToken cancellationToken = default);

    /// <summary>Decodes a recorded event's payload as <typeparamref name="TEvent"/>.</summary>
    /// <exception cref="EventDecodingException">The payload cannot be read as <typeparamref name="TEvent"/>; the message says why.</exception>
    TEvent Decode<TEvent>(RecordedEvent recordedEvent);
}
