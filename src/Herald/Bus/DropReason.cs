namespace Herald;

/// <summary>Why an event accepted by the bus did not reach a subscription's reader. Every drop is counted, logged and metered.</summary>
public enum DropReason
{
    /// <summary>The queue was full under <see cref="Overflow.DropOldest"/>: the oldest queued event was dropped.</summary>
    Oldest = 0,

    /// <summary>The queue was full under <see cref="Overflow.DropNewest"/>: the arriving event was dropped.</summary>
    Newest = 1,

    /// <summary>The subscription was disposed while the event was queued for it (or being written to it).</summary>
    Disposed = 2,

    /// <summary>A typed subscription met an event whose payload is not of its type (published as a raw envelope).</summary>
    WrongType = 3,
}
