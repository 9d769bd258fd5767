using Herald.Transport;

namespace Herald.InMemory;

/// <summary>
/// The in-process transport: a publish puts the envelope (with the event object, unserialized) into the bounded
/// queue of every matching subscription, and of one member per matching group. Publishing takes no lock.
/// </summary>
internal sealed class InMemoryTransport(TransportContext context) : ITransport, IBindingRouter
{
    private readonly Lock _sync = new();
    private RoutingTable _table = RoutingTable.Empty;
    private bool _disposed;

    public ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken) =>
        PublishRouteAsync(Volatile.Read(ref _table).Resolve(envelope.Type), envelope, cancellationToken);

    /// <summary>The typed publish path: the route comes from the type's slot.</summary>
    public ValueTask PublishAsync(Envelope envelope, TopicBinding binding, CancellationToken cancellationToken) =>
        PublishRouteAsync(Volatile.Read(ref _table).Resolve(binding), envelope, cancellationToken);

    private ValueTask PublishRouteAsync(Route route, Envelope envelope, CancellationToken cancellationToken)
    {
        MemoryQueue[] queues = route.Queues;
        for (int i = 0; i < queues.Length; i++)
        {
            if (!queues[i].TryWrite(envelope))
            {
                return PublishSlowAsync(route, envelope, i, 0, cancellationToken);
            }
        }

        ConsumerGroup[] groups = route.Groups;
        for (int g = 0; g < groups.Length; g++)
        {
            if (!groups[g].TryWrite(envelope, out _))
            {
                return PublishSlowAsync(route, envelope, queues.Length, g, cancellationToken);
            }
        }

        if (route.IsEmpty)
        {
            context.ReportUnrouted(envelope);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IConsumer> SubscribeAsync(ConsumerSpec spec, CancellationToken cancellationToken)
    {
        var queue = new MemoryQueue(spec, context.Telemetry, Remove);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Volatile.Write(ref _table, _table.With(queue));
        }

        return new ValueTask<IConsumer>(queue);
    }

    public async ValueTask DisposeAsync()
    {
        MemoryQueue[] queues;
        lock (_sync)
        {
            _disposed = true;
            queues = _table.Queues;
        }

        foreach (MemoryQueue queue in queues)
        {
            await queue.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Remove(MemoryQueue queue)
    {
        lock (_sync)
        {
            Volatile.Write(ref _table, _table.Without(queue));
        }
    }

    /// <summary>Continues a fan-out that met a full queue, from queue <paramref name="q"/> and group <paramref name="g"/> on.</summary>
    private static async ValueTask PublishSlowAsync(Route route, Envelope envelope, int q, int g, CancellationToken cancellationToken)
    {
        MemoryQueue[] queues = route.Queues;
        for (; q < queues.Length; q++)
        {
            if (!queues[q].TryWrite(envelope))
            {
                await queues[q].WriteAsync(envelope, cancellationToken).ConfigureAwait(false);
            }
        }

        ConsumerGroup[] groups = route.Groups;
        for (; g < groups.Length; g++)
        {
            if (!groups[g].TryWrite(envelope, out MemoryQueue chosen))
            {
                await chosen.WriteAsync(envelope, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
