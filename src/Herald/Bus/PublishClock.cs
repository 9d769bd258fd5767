namespace Herald;

/// <summary>
/// The publish path's clock. On the system clock it reads UTC once per tick of <see cref="Environment.TickCount64"/>
/// (a millisecond counter, several times cheaper to read than the wall clock) and reuses it within the tick, so an
/// envelope's time has millisecond precision and is at most one tick early. Any other <see cref="TimeProvider"/> (a
/// test's fake clock) is asked on every publish, to the tick.
/// </summary>
internal sealed class PublishClock(TimeProvider time)
{
    private const int TickBits = 20;
    private const long TickMask = (1L << TickBits) - 1;

    private readonly bool _system = ReferenceEquals(time, TimeProvider.System);

    // Unix milliseconds in the high bits and the tick it was read in (low 20 bits) in the low bits: one atomic word.
    private long _stamp = -1;

    public DateTimeOffset Now()
    {
        if (!_system)
        {
            return time.GetUtcNow();
        }

        long tick = Environment.TickCount64 & TickMask;
        long stamp = Volatile.Read(ref _stamp);
        if (stamp >= 0 && (stamp & TickMask) == tick)
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(stamp >> TickBits);
        }

        long milliseconds = time.GetUtcNow().ToUnixTimeMilliseconds();
        Volatile.Write(ref _stamp, (milliseconds << TickBits) | tick);
        return DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
    }
}
