namespace Herald.Dashboard.Systems;

/// <summary>
/// The newest events a view has seen, in a ring of fixed size with sequence numbers from 1: readers ask for what
/// came after the last number they saw. Older events fall out; nothing here holds back the bus.
/// </summary>
internal sealed class EventTap(int capacity, TimeProvider time)
{
    private readonly (ObservedEvent Event, long Ticks)[] _ring = new (ObservedEvent, long)[capacity];
    private readonly Lock _lock = new();
    private long _next = 1;

    /// <summary>The sequence number of the newest event (0 before any).</summary>
    public long Head
    {
        get
        {
            lock (_lock)
            {
                return _next - 1;
            }
        }
    }

    public void Add(Envelope envelope)
    {
        long now = time.GetTimestamp();
        lock (_lock)
        {
            long position = _next++;
            _ring[position % _ring.Length] = (new ObservedEvent(position, envelope), now);
        }
    }

    /// <summary>Events after <paramref name="after"/>, oldest first, matching <paramref name="pattern"/> when given.</summary>
    public IReadOnlyList<ObservedEvent> Read(long after, int max, TopicPattern? pattern)
    {
        var found = new List<ObservedEvent>();
        lock (_lock)
        {
            long from = Math.Max(after + 1, Math.Max(1, _next - _ring.Length));
            for (long p = from; p < _next && found.Count < max; p++)
            {
                ObservedEvent e = _ring[p % _ring.Length].Event;
                if (pattern is null || pattern.IsMatch(e.Envelope.Type))
                {
                    found.Add(e);
                }
            }
        }

        return found;
    }

    /// <summary>The newest <paramref name="max"/> events matching <paramref name="pattern"/> when given, oldest first.</summary>
    public IReadOnlyList<ObservedEvent> ReadLatest(int max, TopicPattern? pattern)
    {
        IReadOnlyList<ObservedEvent> all = Read(0, int.MaxValue, pattern);
        return all.Count <= max ? all : [.. all.Skip(all.Count - max)];
    }

    public ObservedEvent? Find(string id)
    {
        lock (_lock)
        {
            for (long p = _next - 1; p >= Math.Max(1, _next - _ring.Length); p--)
            {
                ObservedEvent e = _ring[p % _ring.Length].Event;
                if (e.Envelope.Id == id)
                {
                    return e;
                }
            }
        }

        return null;
    }

    /// <summary>Per topic: events held, events in the last minute, and the sources that published them.</summary>
    public IReadOnlyList<TopicView> Topics()
    {
        long minuteAgo = time.GetTimestamp() - time.TimestampFrequency * 60;
        var counts = new Dictionary<string, (long Count, long LastMinute, HashSet<string> Sources)>(StringComparer.Ordinal);
        lock (_lock)
        {
            for (long p = Math.Max(1, _next - _ring.Length); p < _next; p++)
            {
                (ObservedEvent e, long ticks) = _ring[p % _ring.Length];
                if (!counts.TryGetValue(e.Envelope.Type, out var c))
                {
                    c = (0, 0, new HashSet<string>(StringComparer.Ordinal));
                }

                c.Sources.Add(e.Envelope.Source);
                counts[e.Envelope.Type] = (c.Count + 1, c.LastMinute + (ticks >= minuteAgo ? 1 : 0), c.Sources);
            }
        }

        return [.. counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new TopicView(c.Key, c.Value.Count, c.Value.LastMinute / 60.0, [.. c.Value.Sources.Order(StringComparer.Ordinal)]))];
    }
}
