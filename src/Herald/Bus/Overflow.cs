namespace Herald;

/// <summary>What a subscription does when its queue is full and another event arrives.</summary>
public enum Overflow
{
    /// <summary>
    /// The publisher waits for room, up to <see cref="EventBusOptions.PublishTimeout"/>, then gets a
    /// <see cref="PublishTimeoutException"/> naming the slow subscription. The default: nothing is lost.
    /// </summary>
    Wait = 0,

    /// <summary>The oldest queued event is dropped to make room; counted as <see cref="DropReason.Oldest"/>.</summary>
    DropOldest = 1,

    /// <summary>The arriving (newest) event is dropped and the queue kept as it is; counted as <see cref="DropReason.Newest"/>.</summary>
    DropNewest = 2,

    /// <summary>The publisher gets a <see cref="PublishRejectedException"/> at once.</summary>
    Reject = 3,
}
