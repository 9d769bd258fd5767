namespace Herald.Transport;

/// <summary>
/// One envelope handed to a consumer, to be acknowledged once handled or refused. A struct, so the in-memory
/// path allocates nothing per delivery; <see cref="Tag"/> lets a broker transport name the message to settle.
/// </summary>
internal readonly struct Delivery(Envelope envelope, IConsumer consumer, long tag)
{
    /// <summary>The envelope delivered.</summary>
    public Envelope Envelope { get; } = envelope;

    /// <summary>The transport's handle for this delivery (a broker delivery tag, a stored position; 0 in memory).</summary>
    public long Tag { get; } = tag;

    /// <summary>The delivery attempt, 1 for the first.</summary>
    public int Attempt => Envelope.Attempt;

    /// <summary>Acknowledges the delivery: it is done and will not come again.</summary>
    public ValueTask AckAsync(CancellationToken cancellationToken) => consumer.SettleAsync(this, SettleKind.Ack, cancellationToken);

    /// <summary>Refuses the delivery and puts it back for another attempt.</summary>
    public ValueTask NackAsync(CancellationToken cancellationToken) => consumer.SettleAsync(this, SettleKind.Requeue, cancellationToken);

    /// <summary>Leaves the delivery unfinished (shutdown cancelled its handler): a durable transport delivers it again after a restart.</summary>
    public ValueTask ReleaseAsync(CancellationToken cancellationToken) => consumer.SettleAsync(this, SettleKind.Release, cancellationToken);
}
