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
    public async Task UuidIds_AreKeptPerConsumer_AndCaseSensitive()
    {
        var inbox = new InMemoryInboxStore();
        string id = Guid.CreateVersion7().ToString();
        Assert.True(await inbox.TryBeginAsync("email", id, default));
        Assert.False(await inbox.TryBeginAsync("email", id, default));
        Assert.False(await inbox.TryBeginAsync(new string("email".AsSpan()), id, default)); // an equal name, another instance
        Assert.True(await inbox.TryBeginAsync("points", id, default));
        Assert.True(await inbox.TryBeginAsync("email", id.ToUpperInvariant(), default)); // ids are case-sensitive strings
        Assert.False(await inbox.TryBeginAsync("email", id.ToUpperInvariant(), default));
        Assert.Equal(3, inbox.Count);

        await inbox.AbandonAsync("email", id, default);
        Assert.True(await inbox.TryBeginAsync("email", id, default));
        Assert.False(await inbox.TryBeginAsync("points", id, default));
    }

    [Fact]
    public async Task UuidIds_Bounded_OldestAreForgotten_RecentAreKept()
    {
        var inbox = new InMemoryInboxStore(capacity: 1_600);
        var ids = Enumerable.Range(0, 20_000).Select(_ => Guid.CreateVersion7().ToString()).ToArray();
        foreach (string id in ids)
        {
            Assert.True(await inbox.TryBeginAsync("email", id, default));
        }

        Assert.InRange(inbox.Count, 1_000, 1_600);
        Assert.True(await inbox.TryBeginAsync("email", ids[0], default), "the oldest ids were forgotten");
        Assert.False(await inbox.TryBeginAsync("email", ids[^1], default), "the newest ids are remembered");
    }

    [Fact]
    public async Task UuidIds_ConcurrentClaimsFromNewConsumers_ExactlyOneWinsPerConsumerAndKey()
    {
        // Consumers appear concurrently (each gets a number on first use): no two may share a number.
        var inbox = new InMemoryInboxStore();
        var ids = Enumerable.Range(0, 2_000).Select(_ => Guid.CreateVersion7().ToString()).ToArray();
        int wins = 0;
        await Parallel.ForAsync(0, 8 * 20 * ids.Length, async (i, ct) =>
        {
            string consumer = $"c{i / 8 % 20}";
            if (await inbox.TryBeginAsync(consumer, ids[i / 160 % ids.Length], ct))
            {
                Interlocked.Increment(ref wins);
            }
        });
        Assert.Equal(20 * ids.Length, wins);
    }

    [Fact]
    public void Capacity_BelowOne_IsRefused() => Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryInboxStore(0));
}
