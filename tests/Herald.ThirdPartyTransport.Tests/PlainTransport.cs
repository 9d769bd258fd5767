using Herald.Transport;

namespace Herald.ThirdPartyTransport.Tests;

/// <summary>
/// A small in-process transport written as a third party would, on Herald's public contract alone: a publish writes the
/// envelope into one member's lanes per matching group (members take turns), waiting for room up to the bus's publish
/// timeout; nothing survives the process.
/// </summary>
public sealed class PlainTransport(TransportContext context) : ITransport
{
    private readonly Lock _lock = new();
    private PlainConsumer[] _consumers = [];
    private long _turn;

    public async ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        bool routed = false;
        foreach (IGrouping<string, PlainConsumer> group in Volatile.Read(ref _consumers).Where(c => c.Spec.Pattern.IsMatch(envelope.Type)).GroupBy(c => c.Spec.GroupName))
        {
            PlainConsumer[] members = [.. group];
            PlainConsumer chosen = members[(int)((ulong)Interlocked.Increment(ref _turn) % (ulong)members.Length)];
            routed = true;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(context.PublishTimeout);
            try
            {
                await chosen.EnqueueAsync(envelope, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Consumer '{chosen.Name}' stayed full for {context.PublishTimeout.TotalSeconds:0.#} s; '{envelope.Type}' {envelope.Id} was not published.");
            }
        }

        if (!routed)
        {
            context.ReportUnrouted(envelope);
        }
    }

    public ValueTask<IConsumer> SubscribeAsync(ConsumerSpec spec, CancellationToken cancellationToken)
    {
        if (spec.Overflow != Overflow.Wait)
        {
            throw new NotSupportedException($"Consumer '{spec.Name}' asks for Overflow.{spec.Overflow}; the plain transport only waits for room (Overflow.Wait).");
        }

        var consumer = new PlainConsumer(spec, this);
        lock (_lock)
        {
            _consumers = [.. _consumers, consumer];
        }

        return ValueTask.FromResult<IConsumer>(consumer);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (PlainConsumer consumer in Volatile.Read(ref _consumers))
        {
            await consumer.DisposeAsync();
        }
    }

    internal void Remove(PlainConsumer consumer)
    {
        lock (_lock)
        {
            _consumers = [.. _consumers.Where(c => !ReferenceEquals(c, consumer))];
        }
    }
}
