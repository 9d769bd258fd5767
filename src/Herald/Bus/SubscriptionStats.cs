namespace Herald;

/// <summary>A snapshot of one subscription's counters.</summary>
/// <param name="Delivered">Events handed to the reader.</param>
/// <param name="Queued">Events waiting in the queue now.</param>
/// <param name="DroppedOldest">Events dropped as the oldest in a full <see cref="Overflow.DropOldest"/> queue.</param>
/// <param name="DroppedNewest">Events dropped on arrival at a full <see cref="Overflow.DropNewest"/> queue.</param>
/// <param name="DroppedDisposed">Events that were queued (or being written) when the subscription was disposed.</param>
/// <param name="DroppedWrongType">Events skipped by a typed subscription because their payload was not of its type.</param>
/// <param name="Rejected">Publishes refused at once by a full <see cref="Overflow.Reject"/> queue (the publisher got an exception).</param>
/// <param name="TimedOut">Publishes that gave up waiting for room in a full <see cref="Overflow.Wait"/> queue (the publisher got an exception).</param>
/// <param name="Spilled">Re-entrant publishes (from the queue's own handler into its full queue) let past the bound instead of deadlocking.</param>
public readonly record struct SubscriptionStats(
    long Delivered,
    int Queued,
    long DroppedOldest,
    long DroppedNewest,
    long DroppedDisposed,
    long DroppedWrongType,
    long Rejected,
    long TimedOut,
    long Spilled = 0)
{
    /// <summary>All dropped events, whatever the reason.</summary>
    public long Dropped => DroppedOldest + DroppedNewest + DroppedDisposed + DroppedWrongType;

    /// <summary>The dropped events per reason, every reason present (zero when none).</summary>
    public IReadOnlyDictionary<DropReason, long> DroppedByReason => new Dictionary<DropReason, long>
    {
        [DropReason.Oldest] = DroppedOldest,
        [DropReason.Newest] = DroppedNewest,
        [DropReason.Disposed] = DroppedDisposed,
        [DropReason.WrongType] = DroppedWrongType,
    };

    /// <summary>The dropped events for one reason.</summary>
    public long DroppedFor(DropReason reason) => reason switch
    {
        DropReason.Oldest => DroppedOldest,
        DropReason.Newest => DroppedNewest,
        DropReason.Disposed => DroppedDisposed,
        DropReason.WrongType => DroppedWrongType,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Unknown drop reason."),
    };
}
