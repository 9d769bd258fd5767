using System.Collections.Concurrent;

namespace Herald.InMemory;

/// <summary>
/// An immutable snapshot of the live queues, with a per-topic route cache. Subscribing or unsubscribing builds a new
/// table (copy-on-write), so a publish reads one reference and never takes a lock.
/// </summary>
internal sealed class RoutingTable
{
    /// <summary>Beyond this many distinct topics, routes are computed without being cached.</summary>
    private const int MaxCachedTopics = 4096;

    private readonly ConcurrentDictionary<string, Route> _routes = new(StringComparer.Ordinal);
    private readonly Lock _grow = new();
    private Route?[] _byType = [];

    private RoutingTable(MemoryQueue[] queues) => Queues = queues;

    public static RoutingTable Empty { get; } = new([]);

    public MemoryQueue[] Queues { get; }

    public RoutingTable With(MemoryQueue queue) => new([.. Queues, queue]);

    public RoutingTable Without(MemoryQueue queue) => new(Array.FindAll(Queues, q => q != queue));

    /// <summary>The route of a typed publish: an array read by the type's slot, no hashing of the topic.</summary>
    public Route Resolve(TopicBinding binding)
    {
        Route?[] byType = Volatile.Read(ref _byType);
        int slot = binding.Slot;
        if ((uint)slot < (uint)byType.Length && byType[slot] is { } cached)
        {
            return cached;
        }

        Route route = Resolve(binding.Topic);
        lock (_grow)
        {
            Route?[] current = _byType;
            Route?[] next = slot < current.Length ? (Route?[])current.Clone() : new Route?[Math.Max(slot + 1, current.Length * 2)];
            Array.Copy(current, next, Math.Min(current.Length, next.Length));
            next[slot] = route;
            Volatile.Write(ref _byType, next);
        }

        return route;
    }

    public Route Resolve(string topic)
    {
        if (_routes.TryGetValue(topic, out Route? route))
        {
            return route;
        }

        route = Build(topic);
        if (_routes.Count < MaxCachedTopics)
        {
            _routes.TryAdd(topic, route);
        }

        return route;
    }

    private Route Build(string topic)
    {
        var singles = new List<MemoryQueue>();
        var groups = new Dictionary<string, List<MemoryQueue>>(StringComparer.Ordinal);
        foreach (MemoryQueue queue in Queues)
        {
            if (!queue.Spec.Pattern.IsMatch(topic))
            {
                continue;
            }

            if (queue.Spec.Group is { } group)
            {
                if (!groups.TryGetValue(group, out List<MemoryQueue>? members))
                {
                    groups[group] = members = [];
                }

                members.Add(queue);
            }
            else
            {
                singles.Add(queue);
            }
        }

        return new Route([.. singles], [.. groups.Select(g => new ConsumerGroup(g.Key, [.. g.Value]))]);
    }
}
