using Herald.RabbitMQ;
using Herald.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Tests.RabbitMQ;

public sealed class PublishDeadlinesTests
{
    [Fact]
    public void PublishesStartedWithinATenthOfASecond_ShareOneDeadline_WhichNeverFiresBeforeTheTimeoutOfTheLast()
    {
        var time = new FakeTimeProvider(TestEvents.Now);
        var deadlines = new PublishDeadlines(TimeSpan.FromSeconds(10), time);

        CancellationToken first = deadlines.Next();
        time.Advance(TimeSpan.FromMilliseconds(99));
        CancellationToken second = deadlines.Next();
        Assert.Equal(first, second); // one timer for both

        time.Advance(TimeSpan.FromMilliseconds(1));
        CancellationToken third = deadlines.Next();
        Assert.NotEqual(first, third); // the next tenth of a second: a new one

        // The second publish started 99 ms after the first: its 10 s are up at 10.099 s, the shared deadline fires at 10.1 s.
        time.Advance(TimeSpan.FromMilliseconds(9_998)); // 10.098 s after the first
        Assert.False(second.IsCancellationRequested);
        time.Advance(TimeSpan.FromMilliseconds(2)); // 10.100 s
        Assert.True(first.IsCancellationRequested);
        Assert.True(second.IsCancellationRequested);
        Assert.False(third.IsCancellationRequested); // started at 0.1 s: not before 10.1 s of its own

        time.Advance(TimeSpan.FromMilliseconds(100)); // 10.2 s after the first, 10.1 s after the third
        Assert.True(third.IsCancellationRequested);
    }
}
