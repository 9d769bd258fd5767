using System.Collections.Concurrent;

namespace Herald.Transport;

/// <summary>
/// What a transport's read of its log learned about the inbox (the SQLite group reader and the PostgreSQL claim look
/// each row's event id up for the consumer in the same statement), so the pipeline's inbox step need not look again.
/// A hint says "not recorded as of snapshot S", where S counts the records this process had committed when the read
/// began; it is trusted only when no record of that consumer and event id was committed by this process after S (a
/// row of the same event id handled meanwhile by another delivery). Records committed by this process are
/// remembered lossily, in a fixed table of the newest commit's count per hash bucket: a record of another id in the
/// same bucket after S only makes the step look in the table, as it does when no hint was made. Records committed by
/// other processes are not seen here: the same as a lookup made a moment earlier (see the transports' documentation of
/// two processes handling one event id at the same moment).
/// </summary>
internal sealed class InboxHints
{
    private const int MaxHints = 65_536;
    private const int Buckets = 65_536; // a power of two; 512 KB

    private readonly ConcurrentDictionary<(string Consumer, string EventId), Hint> _hints = new();

    /// <summary>Per hash bucket of (consumer, event id): the count of the newest record committed in it (0: none).</summary>
    private readonly long[] _recent = new long[Buckets];
    private long _committed;
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
        ref long newest = ref _recent[Bucket(consumer, eventId)];
        long seen;
        do
        {
            seen = Volatile.Read(ref newest);
        }
        while (sequence > seen && Interlocked.CompareExchange(ref newest, sequence, seen) != seen);
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

        // A record of this id (or of another in its bucket) committed by this process after the read: the read may
        // not have seen it.
        return Volatile.Read(ref _recent[Bucket(consumer, eventId)]) <= hint.Snapshot;
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

    private static int Bucket(string consumer, string eventId) => HashCode.Combine(consumer, eventId) & (Buckets - 1);

    private sealed record Hint(long Snapshot, long MadeAt);
}
