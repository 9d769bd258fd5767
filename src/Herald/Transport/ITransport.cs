namespace Herald.Transport;

/// <summary>
/// The small contract every transport implements (Watermill's lesson): publish an envelope, and hand envelopes to
/// consumers that acknowledge them. Retries, dead letters, idempotency and tracing live once, above it.
/// </summary>
/// <remarks>
/// Internal until the second transport (SQLite) has proved its shape; it then becomes public together with the
/// shared conformance suite. See docs/decisions/0001-transport-contract.md.
/// </remarks>
internal interface ITransport : IAsyncDisposable
{
    /// <summary>Completes when the envelope is accepted at the transport's promise (in memory: queued for every matching consumer).</summary>
    ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken);

    /// <summary>Registers a consumer now, so it receives every envelope published from this moment on, before any read.</summary>
    IConsumer Subscribe(ConsumerSpec spec);
}
