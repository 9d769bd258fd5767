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
    public async Task Bounded_ExactlyTheNewestCapacityIdsAreKept()
    {
        var inbox = new InMemoryInboxStore(capacity: 1_600);
        for (int i = 0; i < 20_000; i++)
        {
            Assert.True(await inbox.TryBeginAsync("email", $"e{i}", default));
        }

        Assert.Equal(1_600, inbox.Count);
        Assert.False(await inbox.TryBeginAsync("email", "e18400", default), "the oldest of the newest 1,600 is remembered");
        Assert.False(await inbox.TryBeginAsync("email", "e19999", default), "the newest is remembered");
        Assert.True(await inbox.TryBeginAsync("email", "e18399", default), "one older is forgotten");
    }

    [Fact]
    public async Task EachConsumerHasItsOwnWindow_ABusyOneDoesNotPushAQuietOnesIdsOut()
    {
        var inbox = new InMemoryInboxStore(capacity: 100);
        string quiet = Guid.CreateVersion7().ToString();
        Assert.True(await inbox.TryBeginAsync("audit", quiet, default));
        Assert.True(await inbox.TryBeginAsync("audit", "text-id", default));
        for (int i = 0; i < 10_000; i++)
        {
            Assert.True(await inbox.TryBeginAsync("email", Guid.CreateVersion7().ToString(), default));
            Assert.True(await inbox.TryBeginAsync("email", $"e{i}", default));
        }

        Assert.False(await inbox.TryBeginAsync("audit", quiet, default));
        Assert.False(await inbox.TryBeginAsync("audit", "text-id", default));
        Assert.Equal(2 + 100 + 100, inbox.Count);
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
    public async Task UuidIds_Bounded_ExactlyTheNewestCapacityIdsAreKept()
    {
        var inbox = new InMemoryInboxStore(capacity: 1_600);
        var ids = Enumerable.Range(0, 20_000).Select(_ => Guid.CreateVersion7().ToString()).ToArray();
        foreach (string id in ids)
        {
            Assert.True(await inbox.TryBeginAsync("email", id, default));
        }

        Assert.Equal(1_600, inbox.Count);
        Assert.False(await inbox.TryBeginAsync("email", ids[^1_600], default), "the oldest of the newest 1,600 is remembered");
        Assert.False(await inbox.TryBeginAsync("email", ids[^1], default), "the newest is remembered");
        Assert.True(await inbox.TryBeginAsync("email", ids[^1_601], default), "one older is forgotten");
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

    [Fact]
    public void Capacity_AboveTheMaximum_IsRefused_WithTheMaximumNamed()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryInboxStore(InMemoryInboxStore.MaxCapacity + 1));
        Assert.Contains("16,777,216", error.Message, StringComparison.Ordinal);
        Assert.Equal(InMemoryInboxStore.MaxCapacity, new InMemoryInboxStore(InMemoryInboxStore.MaxCapacity).Capacity);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(200)]
    public void RecentIds_AgreesWithTheSimpleModel_UnderRandomClaimsAndReleases(int capacity)
    {
        // Keys that collide on purpose (few distinct hashes, negative ones too), so buckets fill, overflow and wrap round.
        var random = new Random(capacity);
        var ids = new InMemoryInboxStore.RecentIds<SpreadKey>(capacity);
        var model = new ModelRecentIds(capacity);
        for (int op = 0; op < 200_000; op++)
        {
            var key = new SpreadKey(random.Next(-3 * capacity, 3 * capacity), 5);
            if (random.Next(4) == 0)
            {
                ids.Remove(key);
                model.Remove(key.Value);
            }
            else
            {
                Assert.True(model.TryAdd(key.Value) == ids.TryAdd(key), $"op {op}: claim of {key.Value}");
            }

            Assert.Equal(model.Count, ids.Count);
        }
    }

    [Theory]
    [InlineData(1_500, 97)]
    [InlineData(9_000, 1_009)]
    public void RecentIds_AgreesWithTheSimpleModel_WhileItGrows_AndLongAfter(int capacity, int hashes)
    {
        // Past the first ring (1,024) and the second (8,192), then many times round the full one; few distinct hashes,
        // so buckets overflow into their neighbours and the marks they leave must be followed and expire.
        var random = new Random(capacity);
        var ids = new InMemoryInboxStore.RecentIds<SpreadKey>(capacity);
        var model = new ModelRecentIds(capacity);
        for (int op = 0; op < 20 * capacity; op++)
        {
            var key = new SpreadKey(random.Next(-2 * capacity, 2 * capacity), hashes);
            if (random.Next(8) == 0)
            {
                ids.Remove(key);
                model.Remove(key.Value);
            }
            else
            {
                Assert.True(model.TryAdd(key.Value) == ids.TryAdd(key), $"op {op}: claim of {key.Value}");
            }

            if (op % 997 == 0)
            {
                Assert.Equal(model.Count, ids.Count);
            }
        }

        Assert.Equal(model.Count, ids.Count);
    }

    [Fact]
    public void RecentIds_AKeyPastAFullBucket_IsFound_AndItsPassingIsUncountedWhenItGoes()
    {
        // One hash for all: the home bucket fills, later keys go on to the next buckets and the full ones count them.
        var ids = new InMemoryInboxStore.RecentIds<SpreadKey>(100);
        for (int i = 0; i < 100; i++)
        {
            Assert.True(ids.TryAdd(new SpreadKey(i, 1)));
        }

        Assert.True(ids.PassedBuckets() > 0);
        for (int i = 0; i < 100; i++)
        {
            Assert.False(ids.TryAdd(new SpreadKey(i, 1)), $"key {i} is remembered");
        }

        for (int i = 0; i < 100; i += 2)
        {
            ids.Remove(new SpreadKey(i, 1)); // given back
        }

        for (int i = 100; i < 200; i++)
        {
            Assert.True(ids.TryAdd(new SpreadKey(i, 1))); // the rest forgotten as the ring goes round
        }

        for (int i = 100; i < 200; i++)
        {
            ids.Remove(new SpreadKey(i, 1));
        }

        Assert.Equal(0, ids.Count);
        Assert.Equal(0, ids.PassedBuckets());
    }

    private readonly record struct SpreadKey(int Value, int Hashes)
    {
        public bool Equals(SpreadKey other) => Value == other.Value;

        public override int GetHashCode() => (Value % Hashes) * 1_000_003;
    }

    /// <summary>The semantics, written the plain way: a dictionary from key to ring slot, and the ring in arrival order.</summary>
    private sealed class ModelRecentIds(int capacity)
    {
        private readonly Dictionary<int, int> _slots = [];
        private readonly int[] _ring = new int[capacity];
        private int _next;
        private int _used;

        public int Count => _slots.Count;

        public bool TryAdd(int key)
        {
            if (_slots.ContainsKey(key))
            {
                return false;
            }

            if (_used == capacity)
            {
                int oldest = _ring[_next];
                if (_slots.TryGetValue(oldest, out int slot) && slot == _next)
                {
                    _slots.Remove(oldest); // forgotten, unless given back or re-added since
                }
            }
            else
            {
                _used++;
            }

            _slots[key] = _next;
            _ring[_next] = key;
            _next = (_next + 1) % capacity;
            return true;
        }

        public void Remove(int key) => _slots.Remove(key);
    }
}
