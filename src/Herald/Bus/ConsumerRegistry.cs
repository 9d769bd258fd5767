using System.Diagnostics.Metrics;
using Herald.Diagnostics;
using Herald.Transport;

namespace Herald;

/// <summary>
/// The consumers a bus made and that are still live, whatever the transport: the bus's subscription count and the
/// <c>herald.queue.depth</c> and <c>herald.queue.oldest_age</c> gauges read them. Copy-on-write: reading takes no lock.
/// </summary>
internal sealed class ConsumerRegistry
{
    private readonly Lock _sync = new();
    private IConsumer[] _consumers = [];

    public ConsumerRegistry(BusTelemetry telemetry, TimeProvider time)
    {
        KeyValuePair<string, object?> bus = telemetry.BusTag;
        telemetry.Meter.CreateObservableGauge("herald.queue.depth", () => Depths(bus), "{event}", "Events waiting per subscription.");
        telemetry.Meter.CreateObservableGauge("herald.queue.oldest_age", () => OldestAges(bus, time.GetUtcNow()), "s", "How long the oldest queued event of each subscription has waited.");
    }

    public int Count => Volatile.Read(ref _consumers).Length;

    public void Add(IConsumer consumer)
    {
        lock (_sync)
        {
            _consumers = [.. _consumers, consumer];
        }
    }

    public void Remove(IConsumer consumer)
    {
        lock (_sync)
        {
            _consumers = Array.FindAll(_consumers, c => !ReferenceEquals(c, consumer));
        }
    }

    /// <summary>What waits for a consumer: its local queue and, on a transport that knows it, the backlog beyond it.</summary>
    public static long Depth(IConsumer consumer) => consumer.Stats.Queued + ((consumer as IConsumerBacklog)?.Backlog ?? 0);

    /// <summary>Forgets every consumer (the transport ended them all).</summary>
    public void Clear()
    {
        lock (_sync)
        {
            _consumers = [];
        }
    }

    private IEnumerable<Measurement<long>> Depths(KeyValuePair<string, object?> bus)
    {
        foreach (IConsumer consumer in Volatile.Read(ref _consumers))
        {
            yield return new Measurement<long>(Depth(consumer), bus, new("herald.subscription", consumer.Name));
        }
    }

    private IEnumerable<Measurement<double>> OldestAges(KeyValuePair<string, object?> bus, DateTimeOffset now)
    {
        foreach (IConsumer consumer in Volatile.Read(ref _consumers))
        {
            if (consumer.TryPeekOldest(out Envelope? oldest))
            {
                yield return new Measurement<double>(Math.Max(0, (now - oldest.Time).TotalSeconds), bus, new("herald.subscription", consumer.Name));
            }
        }
    }
}
