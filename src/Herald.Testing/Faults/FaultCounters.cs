namespace Herald.Testing.Faults;

/// <summary>What a <see cref="FaultyTransport"/> and its consumers injected so far (thread-safe counts).</summary>
internal sealed class FaultCounters
{
    private long _failed;
    private long _duplicated;
    private long _droppedAcks;
    private long _crashes;
    private long _reordered;
    private long _delayed;

    public void FailedPublish() => Interlocked.Increment(ref _failed);

    public void DuplicatedPublish() => Interlocked.Increment(ref _duplicated);

    public void DroppedAck() => Interlocked.Increment(ref _droppedAcks);

    public void Crashed() => Interlocked.Increment(ref _crashes);

    public void Reordered() => Interlocked.Increment(ref _reordered);

    public void Delayed() => Interlocked.Increment(ref _delayed);

    public InjectedFaults Snapshot() => new(
        Interlocked.Read(ref _failed),
        Interlocked.Read(ref _duplicated),
        Interlocked.Read(ref _droppedAcks),
        Interlocked.Read(ref _crashes),
        Interlocked.Read(ref _reordered),
        Interlocked.Read(ref _delayed));
}
