using Herald.Tests.Support;

namespace Herald.Tests.Bus;

public sealed class PublishClockTests
{
    [Fact]
    public void SystemClock_IsWithinATickOfTheWallClock_AndNeverGoesBackwards()
    {
        var clock = new PublishClock(TimeProvider.System);
        DateTimeOffset previous = clock.Now();
        for (int i = 0; i < 100_000; i++)
        {
            DateTimeOffset before = TimeProvider.System.GetUtcNow();
            DateTimeOffset now = clock.Now();
            Assert.InRange(before - now, TimeSpan.FromMilliseconds(-1), TimeSpan.FromMilliseconds(50)); // at most a tick early (generous on a loaded machine)
            Assert.True(now >= previous.AddMilliseconds(-1));
            previous = now;
        }
    }

    [Fact]
    public void OtherTimeProviders_AreAskedEveryTime()
    {
        var clock = new PublishClock(new FixedTimeProvider(TestEvents.Now.AddTicks(123)));
        Assert.Equal(TestEvents.Now.AddTicks(123), clock.Now());
    }
}
