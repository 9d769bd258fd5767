namespace Herald.InMemory;

/// <summary>What a <see cref="BoundedRing{T}"/> does with a write that finds it full.</summary>
internal enum RingFullMode
{
    /// <summary>Refuse it: the writer waits for room (<see cref="BoundedRing{T}.WaitToWriteAsync"/>).</summary>
    Wait,

    /// <summary>Take the oldest queued item out (handed to the drop callback) and write.</summary>
    DropOldest,

    /// <summary>Hand the arriving item to the drop callback and keep the queue as it is.</summary>
    DropWrite,
}
