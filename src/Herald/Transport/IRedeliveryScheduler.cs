namespace Herald.Transport;

/// <summary>
/// An optional ability of a consumer: storing a retry durably, to be delivered to it again later. The retry step uses
/// it for consumers that are not ordered by key (a stored retry would let the key's later events overtake it); without
/// it, the retry step waits in the delivery loop and tries again itself.
/// </summary>
public interface IRedeliveryScheduler
{
    /// <summary>
    /// Stores <paramref name="envelope"/> (carrying its next attempt number) to be delivered to this consumer again at
    /// <paramref name="due"/>; completes when it is stored. The delivery it retries is acknowledged afterwards.
    /// </summary>
    ValueTask ScheduleRedeliveryAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken);
}
