namespace Herald;

/// <summary>A snapshot of one running handler: what it is, its queue, its counters and whether its loops are alive.</summary>
/// <param name="Handler">The handler registration.</param>
/// <param name="Queue">Its subscription's counters (queued, dropped, ...).</param>
/// <param name="Stats">Its handling counters.</param>
/// <param name="OldestQueuedAge">How long the oldest queued event has waited, or null when the queue is empty.</param>
/// <param name="Capacity">The queue's capacity (per lane).</param>
/// <param name="Fault">Why a consumer loop died, or null while all are alive.</param>
/// <param name="Backlog">Events waiting for it in the transport beyond its local queue (a log, a broker queue), where the transport knows.</param>
public readonly record struct ConsumerInfo(
    HandlerDescriptor Handler,
    SubscriptionStats Queue,
    HandlerStats Stats,
    TimeSpan? OldestQueuedAge,
    int Capacity,
    Exception? Fault,
    long Backlog = 0);
