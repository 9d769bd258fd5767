using System.Collections.Concurrent;

namespace Herald.Transport;

/// <summary>
/// What a transport's read of its log learned about the inbox (the SQLite group reader and the PostgreSQL claim look
/// each row's event id up for the consumer in the same statement), so the pipeline's inbox step need not look again.
/// A hint says "not recorded as of snapshot S", where S counts the records this process had committed when the read
/// began; it is trusted only when no record of that consumer and event id was committed by this process after S (a
/// row of the same event id handled meanwhile by another delivery). Records committed by this process are
/// remembered, newest 65,536; if one committed after S was already forgotten, or no hint was made, the step looks in
/// the table as before. Records committed by other processes are not seen here: the same as a lookup made a moment
/// earlier (see the transports' documentation of two processes handling one event id at the same moment).
/// </summary>
internal sealed class InboxHints
{
    private const int MaxHints = 65_536;
    private const int MaxRecent = 65_536;

    private readonly ConcurrentDictionary<(string Consumer, string EventId), Hint> _hints = new();
    private readonly ConcurrentDictionary<(string Consumer, string EventId), long> _recent = new();
    private readonly ConcurrentQueue<((string Consumer, string EventId) Key, long Sequence)> _order = new();
    private long _committed;
    private long _forgotten;
    private int _hintCount; // ConcurrentDictionary.Count takes every lock of the dictionary: counted here instead

    private readonly long _maxAgeMs;

    /// <summary>Hints trusted for at most <paramref name="maxAge"/> (2 s at most).</summary>
    /// <param name="maxAge">
    /// How long a hint is trusted: a delivery that waited longer in the lanes (when its reader may have lost its lease
    /// or claim meanwhile, and another process handled and recorded it) is looked up as before. Give at most half the
    /// transport's lease (a group's lease on SQLite, a claim's on PostgreSQL).
    /// </param>
    public InboxHints(TimeSpan maxAge) =>
        _maxAgeMs = (long)Math.Min(MaxAge.TotalMilliseconds, Math.Max(0, maxAge.TotalMilliseconds));

    /// <summary>The longest a hint is ever trusted.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);

    /// <summary>Taken just before a read: every record counted in it was committed before the read began.</summary>
    public long Snapshot() => Volatile.Read(ref _committed);

    /// <summary>A read that began at <paramref name="snapshot"/> found no record of <paramref name="consumer"/> for <paramref name="eventId"/>.</summary>
    public void Unrecorded(string consumer, string eventId, long snapshot)
    {
        if (Volatile.Read(ref _hintCount) >= MaxHints)
        {
            return; // hints are an optimisation: when many are left unasked, stop making them
        }

        var hint = new Hint(snapshot, Environment.TickCount64);
        while (true)
        {
            if (_hints.TryAdd((consumer, eventId), hint))
            {
                Interlocked.Increment(ref _hintCount);
                return;
            }

            // The same id read again (another row): the newer read answers for both.
            if (_hints.TryGetValue((consumer, eventId), out Hint? old) && _hints.TryUpdate((consumer, eventId), hint, old))
            {
                return;
            }
        }
    }

    /// <summary>
    /// This process committed a record, or tried to and may have (call after the attempt, before the delivery's claim
    /// is released; reporting one that was not committed only costs a lookup).
    /// </summary>
    public void Committed(string consumer, string eventId)
    {
        long sequence = Interlocked.Increment(ref _committed);
        _recent[(consumer, eventId)] = sequence;
        _order.Enqueue(((consumer, eventId), sequence));
        while (sequence - Volatile.Read(ref _forgotten) > MaxRecent && _order.TryDequeue(out ((string, string) Key, long Sequence) old))
        {
            // The floor first, then the entry: a reader that misses the entry sees the floor (TakeUnrecorded reads the
            // entry first, then the floor).
            long forgotten;
            do
            {
                forgotten = Volatile.Read(ref _forgotten);
            }
            while (old.Sequence > forgotten && Interlocked.CompareExchange(ref _forgotten, old.Sequence, forgotten) != forgotten);
            _recent.TryRemove(KeyValuePair.Create(old.Key, old.Sequence));
        }
    }

    /// <summary>Whether a hint says for certain that <paramref name="consumer"/> has no record of <paramref name="eventId"/> (the hint is used up).</summary>
    public bool TakeUnrecorded(string consumer, string eventId)
    {
        if (!_hints.TryRemove((consumer, eventId), out Hint? hint))
        {
            return false;
        }

        Interlocked.Decrement(ref _hintCount);
        if (Environment.TickCount64 - hint.MadeAt > _maxAgeMs)
        {
            return false;
        }

        if (_recent.TryGetValue((consumer, eventId), out long sequence) && sequence > hint.Snapshot)
        {
            return false; // recorded by this process after the read: the read may not have seen it
        }

        return Volatile.Read(ref _forgotten) <= hint.Snapshot; // else one committed after the read may be forgotten
    }

    /// <summary>Drops every hint of <paramref name="consumer"/> (its deliveries left undelivered as it stops).</summary>
    public void ForgetConsumer(string consumer)
    {
        foreach ((string Consumer, string EventId) key in _hints.Keys)
        {
            if (key.Consumer == consumer)
            {
                Forget(key.Consumer, key.EventId);
            }
        }
    }

    /// <summary>Drops a hint nobody asked for (a delivery settled without the inbox step, or never handed on).</summary>
    public void Forget(string consumer, string eventId)
    {
        if (_hints.TryRemove((consumer, eventId), out _))
        {
            Interlocked.Decrement(ref _hintCount);
        }
    }

    private sealed record Hint(long Snapshot, long MadeAt);
}
