namespace Herald.Dashboard.Systems;

/// <summary>
/// The newest events a view has seen, in a ring of fixed size with sequence numbers from 1: readers ask for what
/// came after the last number they saw. Older events fall out, by count and by the bytes of their encoded payloads
/// (<paramref name="maxBytes"/>: a few large events cannot hold gigabytes); nothing here holds back the bus.
/// </summary>
internal sealed class EventTap(int capacity, TimeProvider time, long maxBytes = EventTap.DefaultMaxBytes)
{
    /// <summary>The encoded payload bytes a tap holds at most: 64 MB.</summary>
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    private readonly (ObservedEvent? Event, long Ticks)[] _ring = new (ObservedEvent?, long)[capacity];
    private readonly Lock _lock = new();
    private long _next = 1;
    private long _floor = 1; // the oldest position still held
    private long _bytes;

    /// <summary>The encoded payload bytes held now.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

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
            ref (ObservedEvent? Event, long Ticks) slot = ref _ring[position % _ring.Length];
            _bytes -= slot.Event?.Envelope.EncodedData.Length ?? 0; // the ring's oldest, overwritten
            slot = (new ObservedEvent(position, envelope), now);
            _bytes += envelope.EncodedData.Length;
            _floor = Math.Max(_floor, position - _ring.Length + 1);
            while (_bytes > maxBytes && _floor < position)
            {
                ref (ObservedEvent? Event, long Ticks) oldest = ref _ring[_floor % _ring.Length];
                _bytes -= oldest.Event?.Envelope.EncodedData.Length ?? 0;
                oldest = default;
                _floor++;
            }
        }
    }

    /// <summary>Events after <paramref name="after"/>, oldest first, matching <paramref name="pattern"/> when given.</summary>
    public IReadOnlyList<ObservedEvent> Read(long after, int max, TopicPattern? pattern)
    {
        var found = new List<ObservedEvent>();
        lock (_lock)
        {
            long from = Math.Max(after + 1, _floor);
            for (long p = from; p < _next && found.Count < max; p++)
            {
                ObservedEvent? e = _ring[p % _ring.Length].Event;
                if (e is not null && (pattern is null || pattern.IsMatch(e.Envelope.Type)))
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
            for (long p = _next - 1; p >= _floor; p--)
            {
                ObservedEvent? e = _ring[p % _ring.Length].Event;
                if (e is not null && e.Envelope.Id == id)
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
            for (long p = _floor; p < _next; p++)
            {
                (ObservedEvent? e, long ticks) = _ring[p % _ring.Length];
                if (e is null)
                {
                    continue;
                }

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
