namespace Herald;

/// <summary>
/// A projection: a handler over the event store's global order (<c>$all</c>) or one category of streams, with a
/// stored checkpoint, rebuildable from zero. Delivery is at least once: after a crash the events since the last
/// stored checkpoint are applied again, so <see cref="ApplyAsync"/> must tolerate seeing an event twice (an upsert
/// keyed by the event, or the position stored with the read model).
/// </summary>
public interface IProjection
{
    /// <summary>The projection's name: its checkpoint is stored under it.</summary>
    string Name { get; }

    /// <summary>The stream category it reads (<c>order</c> for <c>order-*</c>), or null for every stream.</summary>
    string? Category { get; }

    /// <summary>Applies one event to the read model.</summary>
    Task ApplyAsync(RecordedEvent recordedEvent, CancellationToken cancellationToken);

    /// <summary>Clears the read model, before a rebuild from the first event.</summary>
    Task ResetAsync(CancellationToken cancellationToken);
}
