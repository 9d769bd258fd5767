using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Tests.Support;

/// <summary>
/// A fake clock that tells when something starts waiting on it (a timer with a finite due time), so a test can
/// advance time exactly when the code under test is waiting, never before.
/// </summary>
public sealed class SignallingTimeProvider() : FakeTimeProvider(TestEvents.Now)
{
    private readonly Channel<TimeSpan> _waits = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            _waits.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>Waits (real time, bounded) until the code under test creates a timer; returns its due time.</summary>
    public async Task<TimeSpan> NextWaitAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await _waits.Reader.ReadAsync(deadline.Token);
    }
}
