namespace Herald;

/// <summary>
/// Handles events of one type. Resolved from DI in a scope per delivery and run through the pipeline (tracing,
/// metrics, logging, isolation, dead-lettering, idempotency, retry, timeout). A class may implement it for several
/// event types; implement <c>IEventHandler&lt;object&gt;</c> for a pattern handler (<c>user.*</c>).
/// </summary>
/// <typeparam name="TEvent">The event type, or <see cref="object"/> for a pattern handler.</typeparam>
public interface IEventHandler<TEvent>
{
    /// <summary>Handles one event. Throw to fail the attempt; honour <paramref name="cancellationToken"/>: it fires at the handler's timeout and at shutdown.</summary>
    /// <param name="context">The event and its envelope.</param>
    /// <param name="cancellationToken">Fires at the handler's timeout and when the host stops.</param>
    Task HandleAsync(EventContext<TEvent> context, CancellationToken cancellationToken);
}
