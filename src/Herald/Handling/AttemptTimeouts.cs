namespace Herald.Handling;

/// <summary>
/// One delivery loop's attempt timeouts, without a timer operation per attempt. An attempt records when it started
/// and gets the loop's token source (linked once to the stop token). One timer per loop, armed on the first attempt,
/// fires at that attempt's deadline; if the attempt running then is younger, the timer re-arms for its deadline
/// instead, and when the loop is idle it disarms until the next attempt. A source that fired is replaced.
/// </summary>
/// <remarks>
/// On the system clock an attempt's start is read from <see cref="Environment.TickCount64"/> (a few nanoseconds; its
/// coarse resolution makes a timeout fire at most a scheduler tick late), not the high-resolution timestamp (~25 ns
/// on a virtual machine, paid by every delivery). Any other <see cref="TimeProvider"/> (a test's fake clock) is read
/// through <see cref="TimeProvider.GetTimestamp"/>. Used by one loop, one attempt at a time; the timer callback is the
/// only other party.
/// </remarks>
internal sealed class AttemptTimeouts : IDisposable
{
    private readonly TimeProvider _time;
    private readonly CancellationToken _stopping;
    private readonly ITimer _timer;
    private readonly bool _systemClock;
    private readonly long _frequency; // ticks of Now per second
    private CancellationTokenSource? _source;
    private CancellationTokenRegistration _link;
    private long _started;      // when the running attempt started (Now); 0 when idle; -1 once the timer claimed it as timed out
    private long _timeoutTicks; // its timeout, in ticks of Now
    private int _armed;

    public AttemptTimeouts(TimeProvider time, CancellationToken stopping)
    {
        _time = time;
        _stopping = stopping;
        _systemClock = ReferenceEquals(time, TimeProvider.System);
        _frequency = _systemClock ? 1_000 : time.TimestampFrequency;
        _timer = time.CreateTimer(static s => ((AttemptTimeouts)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public CancellationTokenSource Rent(TimeSpan timeout)
    {
        if (_source is null)
        {
            _source = new CancellationTokenSource();
            _link = _stopping.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _source);
        }

        Volatile.Write(ref _timeoutTicks, (long)Math.Ceiling(timeout.TotalSeconds * _frequency));
        Volatile.Write(ref _started, Math.Max(1, Now));
        if (Volatile.Read(ref _armed) == 0 && Interlocked.CompareExchange(ref _armed, 1, 0) == 0)
        {
            _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        }

        return _source;
    }

    public void Return(CancellationTokenSource source)
    {
        if (Interlocked.Exchange(ref _started, 0) < 0 || source.IsCancellationRequested)
        {
            Discard(); // timed out (or stopping): the next attempt gets a fresh source
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        Discard();
    }

    private void OnTimer()
    {
        while (true)
        {
            long started = Volatile.Read(ref _started);
            if (started == 0)
            {
                Volatile.Write(ref _armed, 0);
                if (Volatile.Read(ref _started) == 0 || Interlocked.CompareExchange(ref _armed, 1, 0) != 0)
                {
                    return; // idle (or a new attempt armed the timer itself)
                }

                continue; // an attempt started as we disarmed: we re-armed for it, look at it
            }

            if (started < 0)
            {
                return; // already timed out
            }

            long remaining = started + Volatile.Read(ref _timeoutTicks) - Now;
            if (remaining > 0)
            {
                _timer.Change(TimeSpan.FromSeconds((double)remaining / _frequency), Timeout.InfiniteTimeSpan);
                return;
            }

            // Claim exactly this attempt; if it ended (or another began) meanwhile, look again rather than cancel the wrong one.
            CancellationTokenSource? source = Volatile.Read(ref _source);
            if (Interlocked.CompareExchange(ref _started, -1, started) != started)
            {
                continue;
            }

            Volatile.Write(ref _armed, 0);
            try
            {
                source?.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // the attempt ended and its source was replaced as we fired
            }

            return;
        }
    }

    /// <summary>The clock attempts are timed on: milliseconds on the system clock, the provider's timestamp otherwise.</summary>
    private long Now => _systemClock ? Environment.TickCount64 : _time.GetTimestamp();

    private void Discard()
    {
        CancellationTokenSource? source = _source;
        if (source is not null)
        {
            _source = null;
            _link.Dispose();
            source.Dispose();
        }
    }
}
