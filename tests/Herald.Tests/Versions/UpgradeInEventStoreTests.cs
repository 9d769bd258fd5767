using System.Collections.Concurrent;
using Herald.Sqlite;
using Herald.Tests.Support;

namespace Herald.Tests.Versions;

/// <summary>Streams written by older releases, read by the latest: aggregates, reads and projections see version 3.</summary>
public sealed class UpgradeInEventStoreTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    /// <summary>Members per country, read as the latest version.</summary>
    public sealed class MembersByCountry(IEventStore store) : IProjection
    {
        public ConcurrentDictionary<string, MemberJoined> Members { get; } = new();

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "members-by-country";

        public string? Category => "member";

        public Task ApplyAsync(RecordedEvent recordedEvent, CancellationToken cancellationToken)
        {
            MemberJoined joined = store.Decode<MemberJoined>(recordedEvent);
            Members[joined.MemberId] = joined;
            if (Members.Count == 3)
            {
                Reached.TrySetResult();
            }

            return Task.CompletedTask;
        }

        public Task ResetAsync(CancellationToken cancellationToken)
        {
            Members.Clear();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task OldStreams_AreReadAsTheLatestVersion_ByReads_Aggregates_AndProjections()
    {
        // Older releases wrote these.
        using (var old = new SqliteEventStore(_db.Options()))
        {
            await old.AppendEventsAsync("member-1", ExpectedVersion.NoStream, [new MemberJoinedV1("m-1", "Ada Lovelace")]);
            await old.AppendEventsAsync("member-2", ExpectedVersion.NoStream, [new MemberJoinedV2("m-2", "Grace", "Hopper")]);
        }

        // The latest release.
        EventUpcasters.Register<MemberJoinedV1, MemberJoinedV2>(UpgradeEvents.ToV2);
        EventUpcasters.Register<MemberJoinedV2, MemberJoined>(UpgradeEvents.ToV3);
        using var store = new SqliteEventStore(_db.Options());
        await store.AppendEventsAsync("member-3", ExpectedVersion.NoStream, [new MemberJoined("m-3", "Alan", "Turing", "UK")]);

        RecordedEvent first = Assert.Single(await store.ReadStreamAsync("member-1", 1, ReadDirection.Forwards, 10));
        Assert.Null(first.Envelope.DataSchema); // stored as it was written
        Assert.Equal(new MemberJoined("m-1", "Ada", "Lovelace", "unknown"), store.Decode<MemberJoined>(first));
        Assert.Equal(new MemberJoinedV2("m-1", "Ada", "Lovelace"), store.Decode<MemberJoinedV2>(first));

        (MemberJoined? state, long version) = await store.LoadAggregateAsync<MemberJoined?>("member-2", null, (_, e) => store.Decode<MemberJoined>(e));
        Assert.Equal((new MemberJoined("m-2", "Grace", "Hopper", "unknown"), 1L), (state, version));

        // A version 2 reader cannot read the version 3 stream, and says so.
        RecordedEvent latest = Assert.Single(await store.ReadStreamAsync("member-3", 1, ReadDirection.Forwards, 10));
        EventDecodingException tooNew = Assert.Throws<EventDecodingException>(() => store.Decode<MemberJoinedV2>(latest));
        Assert.Contains("is version 3", tooNew.Message, StringComparison.Ordinal);

        var projection = new MembersByCountry(store);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Task run = new ProjectionRunner(store).RunAsync(projection, cts.Token);
        await projection.Reached.Task.WaitAsync(cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(["unknown", "unknown", "UK"], projection.Members.Values.OrderBy(m => m.MemberId).Select(m => m.Country));
    }

    [Fact]
    public async Task OldSnapshots_AreReadThroughTheSnapshotUpcasters_NewerOnesAreNotRead()
    {
        using var store = new SqliteEventStore(_db.Options());
        await SnapshotUpgrade.RunAsync(store);
    }

    public sealed record LoopA(int N);

    public sealed record LoopB(int N);

    private static LoopB AToB(LoopA a) => new(a.N);

    [Fact]
    public void SnapshotUpcasters_AreChecked_WhenRegistered()
    {
        EventUpcasters.RegisterSnapshot<LoopA, LoopB>(AToB);
        EventUpcasters.RegisterSnapshot<LoopA, LoopB>(AToB); // the same method again (a second host): nothing to do
        Assert.Contains("closes a loop", Assert.Throws<InvalidOperationException>(() => EventUpcasters.RegisterSnapshot<LoopB, LoopA>(b => new LoopA(b.N))).Message, StringComparison.Ordinal);
        Assert.Contains("already has an upcaster into it", Assert.Throws<InvalidOperationException>(() => EventUpcasters.RegisterSnapshot<MemberJoinedV1, LoopB>(_ => new LoopB(0))).Message, StringComparison.Ordinal);
        Assert.Contains("to itself", Assert.Throws<InvalidOperationException>(() => EventUpcasters.RegisterSnapshot<LoopA, LoopA>(a => a)).Message, StringComparison.Ordinal);
    }
}
