using System.Collections.Concurrent;
using Herald.InMemory;

namespace Herald.Tests.Bus;

/// <summary>The in-memory lane queue: bounds, drop policies, parking and waking, completion, cancellation, and a hammer.</summary>
public sealed class BoundedRingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(1000)]
    public void Capacity_IsExact_WhetherAPowerOfTwoOrNot(int capacity)
    {
        var ring = new BoundedRing<Item>(capacity, RingFullMode.Wait, null);
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < capacity; i++)
            {
                Assert.True(ring.TryWrite(new Item(0, i)), $"write {i} of {capacity} (round {round})");
            }

            Assert.False(ring.TryWrite(new Item(0, capacity)), "a write beyond the capacity is refused");
            Assert.Equal(capacity, ring.Count);
            Assert.True(ring.TryPeek(out Item? head));
            Assert.Equal(0, head.Sequence);
            for (int i = 0; i < capacity; i++)
            {
                Assert.True(ring.TryRead(out Item? item));
                Assert.Equal(i, item.Sequence);
            }

            Assert.False(ring.TryRead(out _));
            Assert.False(ring.TryPeek(out _));
            Assert.Equal(0, ring.Count);
        }
    }

    [Fact]
    public void DropOldest_TakesTheOldestOutAndKeepsTheNewest()
    {
        var dropped = new List<int>();
        var ring = new BoundedRing<Item>(2, RingFullMode.DropOldest, e => dropped.Add(e.Sequence));
        for (int i = 0; i < 5; i++)
        {
            Assert.True(ring.TryWrite(new Item(0, i)));
        }

        Assert.Equal([0, 1, 2], dropped);
        Assert.Equal([3, 4], Drain(ring));
    }

    [Fact]
    public void DropWrite_RefusesTheArrivingItemAndKeepsTheQueue()
    {
        var dropped = new List<int>();
        var ring = new BoundedRing<Item>(2, RingFullMode.DropWrite, e => dropped.Add(e.Sequence));
        for (int i = 0; i < 5; i++)
        {
            Assert.True(ring.TryWrite(new Item(0, i)), "a dropped write is settled, not refused");
        }

        Assert.Equal([2, 3, 4], dropped);
        Assert.Equal([0, 1], Drain(ring));
    }

    [Fact]
    public async Task ParkedReader_IsWokenByAWrite()
    {
        var ring = new BoundedRing<Item>(4, RingFullMode.Wait, null);
        ValueTask<bool> waiting = ring.WaitToReadAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        Assert.True(ring.TryWrite(new Item(0, 7)));
        Assert.True(await waiting.AsTask().WaitAsync(Patience));
        Assert.True(ring.TryRead(out Item? item));
        Assert.Equal(7, item.Sequence);
    }

    [Fact]
    public async Task ParkedWriter_IsWokenWhenAReaderMakesRoom()
    {
        var ring = new BoundedRing<Item>(1, RingFullMode.Wait, null);
        Assert.True(ring.TryWrite(new Item(0, 0)));
        ValueTask<bool> waiting = ring.WaitToWriteAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        Assert.True(ring.TryRead(out _));
        Assert.True(await waiting.AsTask().WaitAsync(Patience));
        Assert.True(ring.TryWrite(new Item(0, 1)));
    }

    [Fact]
    public async Task Complete_TellsParkedWritersFalse_AndReadersReadWhatIsLeftThenFalse()
    {
        var full = new BoundedRing<Item>(1, RingFullMode.Wait, null);
        Assert.True(full.TryWrite(new Item(0, 0)));
        ValueTask<bool> writer = full.WaitToWriteAsync(CancellationToken.None);
        Assert.True(full.Complete());
        Assert.False(full.Complete(), "a second completion is a no-op");
        Assert.False(await writer.AsTask().WaitAsync(Patience));
        Assert.False(full.TryWrite(new Item(0, 1)), "no writes after completion");
        Assert.True(await full.WaitToReadAsync(CancellationToken.None), "the queued item is still readable");
        Assert.Equal([0], Drain(full));
        Assert.True(full.IsDrained);
        Assert.False(await full.WaitToReadAsync(CancellationToken.None));

        var empty = new BoundedRing<Item>(4, RingFullMode.Wait, null);
        ValueTask<bool> reader = empty.WaitToReadAsync(CancellationToken.None);
        Assert.False(reader.IsCompleted);
        empty.Complete();
        Assert.False(await reader.AsTask().WaitAsync(Patience));
    }

    [Fact]
    public async Task CancelledWait_Throws_AndTheRingGoesOnWorking()
    {
        var ring = new BoundedRing<Item>(1, RingFullMode.Wait, null);
        using (var cts = new CancellationTokenSource())
        {
            ValueTask<bool> reader = ring.WaitToReadAsync(cts.Token);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.AsTask().WaitAsync(Patience));
        }

        for (int i = 0; i < 100; i++)
        {
            using var cts = new CancellationTokenSource();
            ValueTask<bool> reader = ring.WaitToReadAsync(cts.Token);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.AsTask().WaitAsync(Patience));
        }

        Assert.Equal(0, ring.Parked);

        // The cancelled reader left no parked trace: the next one is woken by the next write.
        ValueTask<bool> next = ring.WaitToReadAsync(CancellationToken.None);
        Assert.True(ring.TryWrite(new Item(0, 0)));
        Assert.True(await next.AsTask().WaitAsync(Patience));

        using (var cts = new CancellationTokenSource())
        {
            ValueTask<bool> writer = ring.WaitToWriteAsync(cts.Token);
            Assert.False(writer.IsCompleted, "the ring is full");
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.AsTask().WaitAsync(Patience));
        }

        Assert.Equal(0, ring.Parked);

        ValueTask<bool> nextWriter = ring.WaitToWriteAsync(CancellationToken.None);
        Assert.True(ring.TryRead(out _));
        Assert.True(await nextWriter.AsTask().WaitAsync(Patience));
        Assert.Equal(TaskStatus.Canceled, ring.WaitToReadAsync(new CancellationToken(canceled: true)).AsTask().Status);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    public async Task ManyWritersManyReaders_EveryItemOnce_EachWritersItemsInOrder(int capacity)
    {
        const int Writers = 4;
        const int Readers = 3;
        int perWriter = capacity == 1 ? 20_000 : 100_000;
        var ring = new BoundedRing<Item>(capacity, RingFullMode.Wait, null);
        var seen = new ConcurrentDictionary<(int, int), int>();

        Task[] readers = [.. Enumerable.Range(0, Readers).Select(_ => Task.Run(async () =>
        {
            int[] last = Enumerable.Repeat(-1, Writers).ToArray();
            while (await ring.WaitToReadAsync(CancellationToken.None))
            {
                while (ring.TryRead(out Item? item))
                {
                    Assert.True(item.Sequence > last[item.Writer], $"writer {item.Writer}: {item.Sequence} after {last[item.Writer]}");
                    last[item.Writer] = item.Sequence;
                    Assert.True(seen.TryAdd((item.Writer, item.Sequence), 0), $"duplicate {item}");
                }
            }
        }))];
        Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < perWriter; i++)
            {
                var item = new Item(w, i);
                while (!ring.TryWrite(item))
                {
                    Assert.True(await ring.WaitToWriteAsync(CancellationToken.None));
                }
            }
        }))];

        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(2));
        ring.Complete();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(Writers * perWriter, seen.Count);
        Assert.Equal(0, ring.Count);
    }

    [Fact]
    public void ParkAndWakeCycles_AllocateNothingPerCycle()
    {
        // Every cycle parks a reader and a writer and wakes both (their completions run on the thread pool). The
        // parking, the waking and the results all happen on this thread, so its own allocation counter sees them all,
        // whatever else runs in the process.
        var ring = new BoundedRing<Item>(1, RingFullMode.Wait, null);
        var item = new Item(0, 0);
        const int Cycles = 5_000;
        Cycle(ring, item, 500); // warm-up: JIT, the spare waiters
        long before = GC.GetAllocatedBytesForCurrentThread();
        Cycle(ring, item, Cycles);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < Cycles, $"{allocated} bytes for {Cycles} park-and-wake cycles");

        static void Cycle(BoundedRing<Item> ring, Item item, int cycles)
        {
            for (int i = 0; i < cycles; i++)
            {
                ValueTask<bool> reader = ring.WaitToReadAsync(CancellationToken.None);
                Assert.False(reader.IsCompleted, "the reader parks on an empty ring");
                Assert.True(ring.TryWrite(item));
                Assert.True(Completed(reader));

                ValueTask<bool> writer = ring.WaitToWriteAsync(CancellationToken.None);
                Assert.False(writer.IsCompleted, "the writer parks on a full ring");
                Assert.True(ring.TryRead(out _));
                Assert.True(Completed(writer));
            }
        }

        static bool Completed(ValueTask<bool> wait)
        {
            var spin = default(SpinWait);
            long deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
            while (!wait.IsCompleted && Environment.TickCount64 < deadline)
            {
                spin.SpinOnce(); // the completion runs on a thread-pool thread: wait for it without a continuation
            }

            return wait.GetAwaiter().GetResult();
        }
    }

    private static List<int> Drain(BoundedRing<Item> ring)
    {
        var items = new List<int>();
        while (ring.TryRead(out Item? item))
        {
            items.Add(item.Sequence);
        }

        return items;
    }

    private sealed record Item(int Writer, int Sequence);
}
