using System.Threading.Channels;
using Herald.Transport;

namespace Herald.ThirdPartyTransport.Tests;

/// <summary>One consumer of the <see cref="PlainTransport"/>: Herald's <see cref="LaneConsumer"/> does the reading; this adds settling.</summary>
public sealed class PlainConsumer(ConsumerSpec spec, PlainTransport transport) : LaneConsumer(spec)
{
    private int _disposed;

    /// <summary>Waits for room in the envelope's lane; an envelope for a consumer that is gone is let go.</summary>
    public async ValueTask EnqueueAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        try
        {
            await Lanes.WriteAsync(envelope, tag: 0, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            // disposed while the publish was on its way: nobody reads this consumer any more
        }
    }

    public override ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken) => EnqueueAsync(envelope, cancellationToken);

    public override ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken) =>
        kind == SettleKind.Requeue ? EnqueueAsync(delivery.Envelope.WithAttempt(delivery.Attempt + 1), cancellationToken) : ValueTask.CompletedTask;

    public override ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            transport.Remove(this);
            Lanes.Complete();
        }

        return ValueTask.CompletedTask;
    }
}
