using System.Threading.Tasks.Sources;

namespace Herald.InMemory;

/// <summary>
/// A bounded multi-producer, multi-consumer queue: the in-memory transport's lane. A ring of slots, each with a
/// sequence number (Vyukov's bounded queue), so a write and a read each cost one compare-and-swap on a position that
/// only writers (or only readers) touch; no lock on the hot path. Readers and writers that must wait park on
/// reusable waiters; a writer (reader) only looks at whether anyone is parked, and wakes them through a lock only
/// when someone is. Continuations always run asynchronously, never inline in the thread that woke them.
/// </summary>
/// <remarks>
/// The park/wake handshake is Dekker's: a writer advances the tail with a full fence and then reads the parked-reader
/// count; a reader raises that count with a full fence and then reads the tail. At least one of them sees the other,
/// so no wake-up is lost. The same holds for writers parked on a full ring and the head.
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class BoundedRing<T>
    where T : class
{
    private readonly Slot[] _slots;
    private readonly long _mask;
    private readonly int _capacity;
    private readonly RingFullMode _mode;
    private readonly Action<T>? _onDropped;
    private readonly Lock _lock = new();
    private readonly List<RingWaiter> _parkedReaders = [];
    private readonly List<RingWaiter> _parkedWriters = [];
    private RingPositions _positions;
    private int _readersParked;
    private int _writersParked;
    private RingWaiter? _spareReader;
    private RingWaiter? _spareWriter;
    private volatile bool _completed;

    public BoundedRing(int capacity, RingFullMode mode, Action<T>? onDropped)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _mode = mode;
        _onDropped = onDropped;

        // The sequence scheme needs two slots at least; a capacity of one is then held by the count.
        int length = Math.Max(capacity, 2);
        _slots = new Slot[length];
        for (int i = 0; i < length; i++)
        {
            _slots[i].Sequence = i;
        }

        _mask = (length & (length - 1)) == 0 ? length - 1 : -1;
    }

    /// <summary>How many items are queued (a snapshot).</summary>
    public int Count => (int)Math.Clamp(Volatile.Read(ref _positions.Tail) - Volatile.Read(ref _positions.Head), 0, _capacity);

    /// <summary>How many readers and writers are parked (for tests: a cancelled wait must not stay parked).</summary>
    public int Parked => Volatile.Read(ref _readersParked) + Volatile.Read(ref _writersParked);

    /// <summary>True once <see cref="Complete"/> was called: no more writes.</summary>
    public bool IsCompleted => _completed;

    /// <summary>True when completed and empty: nothing will ever be read again.</summary>
    public bool IsDrained => _completed && IsEmpty;

    private bool IsEmpty => Volatile.Read(ref _positions.Tail) == Volatile.Read(ref _positions.Head);

    /// <summary>
    /// Writes without waiting. True when the item is settled: queued, or dropped by the ring's policy (the drop
    /// callback has seen it). False when the ring is full in <see cref="RingFullMode.Wait"/>, or completed.
    /// </summary>
    public bool TryWrite(T item)
    {
        if (_completed)
        {
            return false;
        }

        while (!TryEnqueue(item))
        {
            switch (_mode)
            {
                case RingFullMode.DropWrite:
                    _onDropped?.Invoke(item);
                    return true;
                case RingFullMode.DropOldest:
                    if (TryDequeue(out T? oldest))
                    {
                        _onDropped?.Invoke(oldest);
                    }

                    continue;
                default:
                    return false;
            }
        }

        if (Volatile.Read(ref _readersParked) != 0)
        {
            WakeAll(_parkedReaders, ref _readersParked, true);
        }

        return true;
    }

    /// <summary>Reads one item without waiting.</summary>
    public bool TryRead([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? item)
    {
        if (!TryDequeue(out item))
        {
            return false;
        }

        if (Volatile.Read(ref _writersParked) != 0)
        {
            WakeAll(_parkedWriters, ref _writersParked, true);
        }

        return true;
    }

    /// <summary>The oldest queued item without taking it (a snapshot; it may be taken meanwhile).</summary>
    public bool TryPeek([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? item)
    {
        long head = Volatile.Read(ref _positions.Head);
        ref Slot slot = ref _slots[Index(head)];
        item = Volatile.Read(ref slot.Sequence) == head + 1 ? Volatile.Read(ref slot.Item) : null;
        return item is not null;
    }

    /// <summary>Completes once there is something to read (true) or the ring is completed and empty (false).</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        if (!IsEmpty)
        {
            return new ValueTask<bool>(true);
        }

        return _completed ? new ValueTask<bool>(false) : ParkAsync(reader: true, cancellationToken);
    }

    /// <summary>Completes once there is room to write (true) or the ring is completed (false).</summary>
    public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken)
    {
        if (_completed)
        {
            return new ValueTask<bool>(false);
        }

        return IsFull ? ParkAsync(reader: false, cancellationToken) : new ValueTask<bool>(true);
    }

    /// <summary>No more writes: parked writers are told false, parked readers read what is left and then false.</summary>
    public bool Complete()
    {
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            _completed = true;
        }

        WakeAll(_parkedWriters, ref _writersParked, false);
        WakeAll(_parkedReaders, ref _readersParked, !IsEmpty);
        return true;
    }

    /// <summary>
    /// Parks a reader (until something is written) or a writer (until something is read): raises the parked count
    /// (a full fence), looks at the positions again, and only then waits, so a wake-up cannot slip between the two.
    /// </summary>
    private ValueTask<bool> ParkAsync(bool reader, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        RingWaiter waiter;
        lock (_lock)
        {
            ref int parked = ref reader ? ref _readersParked : ref _writersParked;
            Interlocked.Increment(ref parked);
            if ((reader ? !IsEmpty : !IsFull) || _completed)
            {
                Interlocked.Decrement(ref parked);
                return new ValueTask<bool>(reader ? !IsEmpty : !_completed);
            }

            waiter = Interlocked.Exchange(ref reader ? ref _spareReader : ref _spareWriter, null) ?? new RingWaiter(this, reader);
            waiter.Arm();
            (reader ? _parkedReaders : _parkedWriters).Add(waiter);
        }

        return waiter.WaitAsync(cancellationToken);
    }

    private bool IsFull => Volatile.Read(ref _positions.Tail) - Volatile.Read(ref _positions.Head) >= _capacity;

    private long Index(long position) => _mask >= 0 ? position & _mask : (long)((ulong)position % (ulong)_slots.Length);

    private bool TryEnqueue(T item)
    {
        var spin = default(SpinWait);
        long position = Volatile.Read(ref _positions.Tail);
        while (true)
        {
            if (_capacity < _slots.Length && position - Volatile.Read(ref _positions.Head) >= _capacity)
            {
                return false;
            }

            ref Slot slot = ref _slots[Index(position)];
            long difference = Volatile.Read(ref slot.Sequence) - position;
            if (difference == 0)
            {
                long seen = Interlocked.CompareExchange(ref _positions.Tail, position + 1, position);
                if (seen == position)
                {
                    slot.Item = item;
                    Volatile.Write(ref slot.Sequence, position + 1);
                    return true;
                }

                position = seen;
            }
            else if (difference < 0)
            {
                // The slot still holds the item one lap back. Full, unless a reader has claimed it and is between its
                // claim and its release: then the room is a moment away.
                if (position - Volatile.Read(ref _positions.Head) >= _slots.Length)
                {
                    return false;
                }

                spin.SpinOnce(sleep1Threshold: -1);
                position = Volatile.Read(ref _positions.Tail);
            }
            else
            {
                position = Volatile.Read(ref _positions.Tail);
            }
        }
    }

    private bool TryDequeue([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? item)
    {
        var spin = default(SpinWait);
        long position = Volatile.Read(ref _positions.Head);
        while (true)
        {
            ref Slot slot = ref _slots[Index(position)];
            long difference = Volatile.Read(ref slot.Sequence) - (position + 1);
            if (difference == 0)
            {
                long seen = Interlocked.CompareExchange(ref _positions.Head, position + 1, position);
                if (seen == position)
                {
                    item = slot.Item!;
                    slot.Item = null;
                    Volatile.Write(ref slot.Sequence, position + _slots.Length);
                    return true;
                }

                position = seen;
            }
            else if (difference < 0)
            {
                // Empty, unless a writer has claimed this slot and is between its claim and its release.
                if (Volatile.Read(ref _positions.Tail) <= position)
                {
                    item = null;
                    return false;
                }

                spin.SpinOnce(sleep1Threshold: -1);
                position = Volatile.Read(ref _positions.Head);
            }
            else
            {
                position = Volatile.Read(ref _positions.Head);
            }
        }
    }

    private void WakeAll(List<RingWaiter> parked, ref int count, bool result)
    {
        RingWaiter? single = null;
        RingWaiter[]? several = null;
        lock (_lock)
        {
            if (parked.Count == 1)
            {
                single = parked[0];
            }
            else if (parked.Count > 1)
            {
                several = [.. parked];
            }

            parked.Clear();
            Volatile.Write(ref count, 0);
        }

        single?.TrySet(result);
        if (several is not null)
        {
            foreach (RingWaiter waiter in several)
            {
                waiter.TrySet(result);
            }
        }
    }

    private void Unpark(RingWaiter waiter)
    {
        lock (_lock)
        {
            List<RingWaiter> parked = waiter.IsReader ? _parkedReaders : _parkedWriters;
            if (parked.Remove(waiter))
            {
                Interlocked.Decrement(ref waiter.IsReader ? ref _readersParked : ref _writersParked);
            }
        }
    }

    private void Return(RingWaiter waiter) => Volatile.Write(ref waiter.IsReader ? ref _spareReader : ref _spareWriter, waiter);

    private struct Slot
    {
        public T? Item;
        public long Sequence;
    }

    /// <summary>
    /// One parked reader or writer; reused, so a steady park-wake cycle allocates nothing. Its continuation runs on the
    /// thread pool: the waiter queues itself there (it is its own work item) and completes from there.
    /// </summary>
    private sealed class RingWaiter(BoundedRing<T> ring, bool reader) : IValueTaskSource<bool>, IThreadPoolWorkItem
    {
        private ManualResetValueTaskSourceCore<bool> _core;
        private CancellationTokenRegistration _registration;
        private bool _result;
        private OperationCanceledException? _cancelled;
        private int _done;

        public bool IsReader => reader;

        public void Arm()
        {
            _core.Reset();
            _result = false;
            _cancelled = null;
            _done = 0;
        }

        public ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
        {
            short version = _core.Version;
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.UnsafeRegister(static (state, token) => ((RingWaiter)state!).Cancel(token), this);
            }

            return new ValueTask<bool>(this, version);
        }

        public void TrySet(bool result)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                _result = result;
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }

        public void Execute()
        {
            if (_cancelled is { } cancelled)
            {
                _core.SetException(cancelled);
            }
            else
            {
                _core.SetResult(_result);
            }
        }

        public bool GetResult(short token)
        {
            _registration.Dispose();
            _registration = default;
            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                ring.Return(this);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        private void Cancel(CancellationToken token)
        {
            ring.Unpark(this);
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                _cancelled = new OperationCanceledException(token);
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }
    }
}
