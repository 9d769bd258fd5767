namespace Herald.Transport;

/// <summary>
/// What carries events between publishers and consumers: the in-memory queues, an embedded log (SQLite), a broker
/// (RabbitMQ). Small on purpose (Watermill's lesson): publish an envelope, and register consumers that read envelopes
/// and settle them. Retries, dead letters, idempotency, tracing and gates live once, above it, and work on every
/// transport. Optional abilities are separate interfaces a transport may also implement
/// (<see cref="IDelayedPublish"/>, <see cref="ITransactionalPublish"/>, and on its consumers
/// <see cref="IRedeliveryScheduler"/>).
/// </summary>
/// <remarks>
/// A bus uses its transport from many threads at once: every member must be thread-safe. Every wait must end: honour
/// the token and bound what the token does not (a connect, a confirm) with the transport's own timeout. A transport
/// that cannot keep something a <see cref="ConsumerSpec"/> asks for (an overflow policy, ordering) throws a
/// <see cref="NotSupportedException"/> naming it from <see cref="SubscribeAsync"/>: never ignore it silently.
/// Test a transport with <c>Herald.Testing.Transports.TransportConformanceTests</c>; see docs/transports.md.
/// </remarks>
public interface ITransport : IAsyncDisposable
{
    /// <summary>
    /// Completes when the envelope is accepted at the transport's promise: in memory, queued for every matching
    /// consumer; on a durable transport, stored; on a broker, confirmed. An envelope that matches no consumer is
    /// reported through <see cref="TransportContext.ReportUnrouted"/> (or refused, if the transport documents that).
    /// </summary>
    /// <param name="envelope">The envelope, with its event object (<see cref="Envelope.Data"/>) or its encoded payload.</param>
    /// <param name="cancellationToken">Stops a wait for room, a connection or a confirm.</param>
    ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken);

    /// <summary>
    /// Registers a consumer. When it completes, the consumer receives every matching envelope published from then on
    /// (registration happens here, not when reading starts, so nothing published in between is missed).
    /// </summary>
    /// <param name="spec">The topics, group, room and ordering asked for.</param>
    /// <param name="cancellationToken">Stops a registration that waits (for a connection, a queue declaration).</param>
    /// <exception cref="NotSupportedException">The transport cannot keep what <paramref name="spec"/> asks; the message names it.</exception>
    ValueTask<IConsumer> SubscribeAsync(ConsumerSpec spec, CancellationToken cancellationToken);
}
