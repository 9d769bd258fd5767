using Herald.Handling;
using Herald.Tests.Support;

namespace Herald.Tests.Handling;

public sealed class AttemptTimeoutsTests
{
    [Fact]
    public void Attempt_PastItsTimeout_IsCancelled_AtTheDeadline()
    {
        var clock = new SignallingTimeProvider();
        using var stop = new CancellationTokenSource();
        using var timeouts = new AttemptTimeouts(clock, stop.Token);

        CancellationTokenSource attempt = timeouts.Rent(TimeSpan.FromSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(attempt.IsCancellationRequested);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(attempt.IsCancellationRequested);
        timeouts.Return(attempt);

        CancellationTokenSource next = timeouts.Rent(TimeSpan.FromSeconds(5));
        Assert.NotSame(attempt, next);
        Assert.False(next.IsCancellationRequested);
    }

    [Fact]
    public async Task OnTheSystemClock_AnAttemptPastItsTimeout_IsCancelled_NotBefore()
    {
        using var stop = new CancellationTokenSource();
        using var timeouts = new AttemptTimeouts(TimeProvider.System, stop.Token);
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();

        CancellationTokenSource attempt = timeouts.Rent(TimeSpan.FromMilliseconds(100));
        using CancellationTokenRegistration registration = attempt.Token.Register(() => fired.TrySetResult());
        await fired.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // The attempt's start is read from the coarse tick count: a timeout may fire up to a scheduler tick off.
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(90));
        timeouts.Return(attempt);
        CancellationTokenSource next = timeouts.Rent(TimeSpan.FromSeconds(30));
        Assert.False(next.IsCancellationRequested);
        timeouts.Return(next);
    }

    [Fact]
    public void ShortAttempts_ReuseTheSource_AndALaterAttemptGetsItsOwnFullTimeout()
    {
        var clock = new SignallingTimeProvider();
        using var stop = new CancellationTokenSource();
        using var timeouts = new AttemptTimeouts(clock, stop.Token);

        CancellationTokenSource first = timeouts.Rent(TimeSpan.FromSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(3));
        timeouts.Return(first);
        CancellationTokenSource second = timeouts.Rent(TimeSpan.FromSeconds(5)); // starts at t=3, due at t=8
        Assert.Same(first, second);

        clock.Advance(TimeSpan.FromSeconds(2)); // t=5: the first attempt's deadline; the second is younger
        Assert.False(second.IsCancellationRequested);
        clock.Advance(TimeSpan.FromSeconds(3)); // t=8
        Assert.True(second.IsCancellationRequested);
    }

    [Fact]
    public void Stop_CancelsTheRunningAttempt()
    {
        var clock = new SignallingTimeProvider();
        using var stop = new CancellationTokenSource();
        using var timeouts = new AttemptTimeouts(clock, stop.Token);

        CancellationTokenSource attempt = timeouts.Rent(TimeSpan.FromMinutes(1));
        stop.Cancel();

        Assert.True(attempt.IsCancellationRequested);
    }

    [Fact]
    public void IdleLoop_TimerFiresWithoutCancellingTheNextAttempt()
    {
        var clock = new SignallingTimeProvider();
        using var stop = new CancellationTokenSource();
        using var timeouts = new AttemptTimeouts(clock, stop.Token);

        timeouts.Return(timeouts.Rent(TimeSpan.FromSeconds(1)));
        clock.Advance(TimeSpan.FromSeconds(10)); // fires while idle: disarms
        CancellationTokenSource next = timeouts.Rent(TimeSpan.FromSeconds(1));
        Assert.False(next.IsCancellationRequested);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(next.IsCancellationRequested);
    }
}
