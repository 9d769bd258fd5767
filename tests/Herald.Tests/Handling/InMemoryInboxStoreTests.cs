namespace Herald.Tests.Handling;

public sealed class InMemoryInboxStoreTests
{
    [Fact]
    public async Task TryBegin_SecondClaimOfSameKey_IsRefused_OtherConsumerIsNot()
    {
        var inbox = new InMemoryInboxStore();
        Assert.True(await inbox.TryBeginAsync("email", "e1", default));
        Assert.False(await inbox.TryBeginAsync("email", "e1", default));
        Assert.True(await inbox.TryBeginAsync("points", "e1", default));
        Assert.Equal(2, inbox.Count);
    }

    [Fact]
    public async Task Abandon_ReleasesTheClaim()
    {
        var inbox = new InMemoryInboxStore();
        Assert.True(await inbox.TryBeginAsync("email", "e1", default));
        await inbox.AbandonAsync("email", "e1", default);
        Assert.True(await inbox.TryBeginAsync("email", "e1", default));
    }

    [Fact]
    public async Task Bounded_OldestAreForgotten_RecentAreKept()
    {
        var inbox = new InMemoryInboxStore(capacity: 1_600); // 16 stripes of 100
        for (int i = 0; i < 20_000; i++)
        {
            Assert.True(await inbox.TryBeginAsync("email", $"e{i}", default));
        }

        Assert.InRange(inbox.Count, 1_000, 1_600);
        Assert.True(await inbox.TryBeginAsync("email", "e0", default), "the oldest ids were forgotten");
        Assert.False(await inbox.TryBeginAsync("email", "e19999", default), "the newest ids are remembered");
    }

    [Fact]
    public async Task ConcurrentClaims_ExactlyOneWinsPerKey()
    {
        var inbox = new InMemoryInboxStore();
        int wins = 0;
        await Parallel.ForAsync(0, 8 * 10_000, async (i, ct) =>
        {
            if (await inbox.TryBeginAsync("email", $"e{i % 10_000}", ct))
            {
                Interlocked.Increment(ref wins);
            }
        });
        Assert.Equal(10_000, wins);
    }

    [Fact]
    public void Capacity_BelowOne_IsRefused() => Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryInboxStore(0));
}
