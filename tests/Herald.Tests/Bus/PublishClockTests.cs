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
            DateTimeOffset after = TimeProvider.System.GetUtcNow();
            Assert.True(now <= after, $"{now:O} is later than the wall clock read after it, {after:O}");
            Assert.True(now >= before.AddMilliseconds(-50), $"{now:O} is more than a tick earlier than {before:O}"); // a tick is 1-4 ms; generous on a loaded machine
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
