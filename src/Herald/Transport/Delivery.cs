namespace Herald.Transport;

/// <summary>
/// One envelope handed to a reader, to be settled once it is handled or refused. A struct, so the in-memory path
/// allocates nothing per delivery; <see cref="Tag"/> lets a transport name what to settle (a broker's delivery tag, a
/// stored position).
/// </summary>
/// <param name="envelope">The envelope delivered.</param>
/// <param name="consumer">The consumer that settles it.</param>
/// <param name="tag">The transport's handle for this delivery (0 when it needs none).</param>
public readonly struct Delivery(Envelope envelope, IConsumer consumer, long tag)
{
    /// <summary>The envelope delivered.</summary>
    public Envelope Envelope { get; } = envelope;

    /// <summary>The transport's handle for this delivery (a broker delivery tag, a stored position; 0 in memory).</summary>
    public long Tag { get; } = tag;

    /// <summary>The consumer the delivery came from.</summary>
    public IConsumer Consumer { get; } = consumer;

    /// <summary>The delivery attempt, 1 for the first.</summary>
    public int Attempt => Envelope.Attempt;

    /// <summary>Acknowledges the delivery: it is done and will not come again.</summary>
    public ValueTask AckAsync(CancellationToken cancellationToken) => Consumer.SettleAsync(this, SettleKind.Ack, cancellationToken);

    /// <summary>Refuses the delivery and puts it back for another attempt.</summary>
    public ValueTask NackAsync(CancellationToken cancellationToken) => Consumer.SettleAsync(this, SettleKind.Requeue, cancellationToken);

    /// <summary>Leaves the delivery unfinished (shutdown cancelled its handler): a durable transport delivers it again after a restart.</summary>
    public ValueTask ReleaseAsync(CancellationToken cancellationToken) => Consumer.SettleAsync(this, SettleKind.Release, cancellationToken);
}
