namespace Herald.Transport;

/// <summary>
/// A transport that can route a typed publish by the event type's binding (a slot per type, no lookup by topic text):
/// the bus's typed fast path uses it when the transport offers it. Internal: an optimisation, not part of the contract.
/// </summary>
internal interface IBindingRouter
{
    /// <summary>Publishes as <see cref="ITransport.PublishAsync"/> does, routing by <paramref name="binding"/>.</summary>
    ValueTask PublishAsync(Envelope envelope, TopicBinding binding, CancellationToken cancellationToken);
}
