namespace Herald.Testing.Faults;

/// <summary>Counts of the faults a <see cref="FaultyTransport"/> injected (<see cref="FaultyTransport.Injected"/>).</summary>
/// <param name="FailedPublishes">Publishes that failed before reaching the transport.</param>
/// <param name="DuplicatedPublishes">Publishes stored twice.</param>
/// <param name="DroppedAcks">Acknowledgements lost (each delivery came again).</param>
/// <param name="Crashes">Deliveries redelivered at once because their consumer "crashed" while handling them.</param>
/// <param name="Reordered">Pairs of deliveries handed out swapped.</param>
/// <param name="Delayed">Publishes and settles that waited an injected delay.</param>
public readonly record struct InjectedFaults(long FailedPublishes, long DuplicatedPublishes, long DroppedAcks, long Crashes, long Reordered, long Delayed)
{
    /// <summary>Deliveries beyond one per published event that the faults caused: duplicated publishes, lost acknowledgements and crashes.</summary>
    public long ExtraDeliveries => DuplicatedPublishes + DroppedAcks + Crashes;

    /// <summary>The sum of two counts.</summary>
    /// <param name="left">One count.</param>
    /// <param name="right">Another count.</param>
    public static InjectedFaults operator +(InjectedFaults left, InjectedFaults right) => new(
        left.FailedPublishes + right.FailedPublishes,
        left.DuplicatedPublishes + right.DuplicatedPublishes,
        left.DroppedAcks + right.DroppedAcks,
        left.Crashes + right.Crashes,
        left.Reordered + right.Reordered,
        left.Delayed + right.Delayed);
}
