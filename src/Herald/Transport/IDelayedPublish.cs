namespace Herald.Transport;

/// <summary>
/// An optional ability of a transport: keeping a delayed event itself (durably) until it falls due. Without it, the bus
/// holds delayed events in memory (<see cref="PublishOptions.Delay"/> is then lost with the process).
/// </summary>
public interface IDelayedPublish
{
    /// <summary>Stores the envelope to be published at <paramref name="due"/>; completes when it is stored.</summary>
    ValueTask ScheduleAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken);
}
