namespace Herald;

/// <summary>
/// Remembers which event ids each consumer has handled, so a redelivered event is skipped. A delivery first
/// claims the id (<see cref="TryBeginAsync"/>), then completes or abandons the claim, so two concurrent deliveries
/// of one id run the handler once.
/// </summary>
public interface IInboxStore
{
    /// <summary>Claims (<paramref name="consumer"/>, <paramref name="eventId"/>). False when it is already handled or being handled.</summary>
    ValueTask<bool> TryBeginAsync(string consumer, string eventId, CancellationToken cancellationToken);

    /// <summary>Marks a claimed id as handled.</summary>
    ValueTask CompleteAsync(string consumer, string eventId, CancellationToken cancellationToken);

    /// <summary>Releases a claim whose handling failed, so a later delivery may try again.</summary>
    ValueTask AbandonAsync(string consumer, string eventId, CancellationToken cancellationToken);
}
