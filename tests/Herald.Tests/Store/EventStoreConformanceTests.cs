using System.Data.Common;
using Herald.Tests.Support;

namespace Herald.Tests.Store;

/// <summary>
/// What every <see cref="IEventStore"/> promises, written once: SQLite and PostgreSQL each run it on a fresh empty store
/// per test (expected versions, atomic appends, reads both ways, <c>$all</c>, metadata, soft delete, snapshots,
/// checkpoints, catch-up then live subscriptions, the caller's transaction).
/// </summary>
public abstract class EventStoreConformanceTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private IEventStore? _store;

    /// <summary>The store under test (fresh and empty for each test).</summary>
    protected IEventStore Store => _store ?? throw new InvalidOperationException("not initialised");

    /// <summary>Makes a fresh, empty store.</summary>
    protected abstract Task<IEventStore> CreateStoreAsync();

    /// <summary>Opens a connection to the store's database (for the caller's-transaction test).</summary>
    protected abstract Task<DbConnection> OpenConnectionAsync();

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public virtual async Task DisposeAsync()
    {
        switch (_store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    protected static Envelope[] Events(long from, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new Envelope("order.paid", new OrderPaid(from + i, 10m), Now))];

    [Fact]
    public async Task Append_NewStream_VersionsFromOne_PositionsGlobal_ReadBackTyped()
    {
        AppendResult first = await Store.AppendAsync("order-1", Events(1, 3), ExpectedVersion.NoStream);
        AppendResult second = await Store.AppendAsync("order-2", Events(10, 2), ExpectedVersion.NoStream);

        Assert.Equal(3, first.NextExpectedVersion);
        Assert.Equal(3, first.LastPosition);
        Assert.Equal(2, second.NextExpectedVersion);
        Assert.Equal(5, second.LastPosition);

        IReadOnlyList<RecordedEvent> stream = await Store.ReadStreamAsync("order-1", 1, ReadDirection.Forwards, 100);
        Assert.Equal([1L, 2, 3], stream.Select(e => e.Version));
        Assert.Equal([1L, 2, 3], stream.Select(e => Store.Decode<OrderPaid>(e).OrderId));
        Assert.Equal("order.paid", stream[0].Envelope.Type);

        IReadOnlyList<RecordedEvent> all = await Store.ReadAllAsync(1, 100);
        Assert.Equal([1L, 2, 3, 4, 5], all.Select(e => e.Position));
        Assert.Equal(["order-1", "order-1", "order-1", "order-2", "order-2"], all.Select(e => e.StreamId));
        Assert.Equal(5, await Store.GetLastPositionAsync());
    }

    [Fact]
    public async Task Append_KeepsEnvelopeIdsAndAttributes()
    {
        var envelope = new Envelope("order.paid", new OrderPaid(7, 1m), Now) { Subject = "order-7", CorrelationId = "c-1", Headers = new Dictionary<string, string> { ["tenant"] = "acme" } };
        await Store.AppendAsync("order-7", [envelope], ExpectedVersion.Any);

        Envelope read = (await Store.ReadStreamAsync("order-7", 1, ReadDirection.Forwards, 1))[0].Envelope;
        Assert.Equal(envelope.Id, read.Id);
        Assert.Equal("order-7", read.Subject);
        Assert.Equal("c-1", read.CorrelationId);
        Assert.Equal("acme", read.Headers["tenant"]);
        Assert.Equal(Now, read.Time);
    }

    [Fact]
    public async Task Append_ExpectedVersions_AreChecked_AndAConflictWritesNothing()
    {
        await Store.AppendAsync("order-1", Events(1, 2), ExpectedVersion.NoStream);

        var noStream = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => Store.AppendAsync("order-1", Events(3, 1), ExpectedVersion.NoStream));
        Assert.Equal("order-1", noStream.StreamId);
        Assert.Equal(2, noStream.Actual);
        Assert.Contains("'order-1'", noStream.Message);
        Assert.Contains("no stream", noStream.Message);

        var exact = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => Store.AppendAsync("order-1", Events(3, 3), ExpectedVersion.Exactly(1)));
        Assert.Equal(ExpectedVersion.Exactly(1), exact.Expected);
        await Assert.ThrowsAsync<WrongExpectedVersionException>(() => Store.AppendAsync("order-9", Events(3, 1), ExpectedVersion.StreamExists));

        Assert.Equal(2, (await Store.GetStreamAsync("order-1")).Version);
        Assert.Equal(2, await Store.GetLastPositionAsync()); // the refused appends left nothing, not even a position
        Assert.Equal(0, (await Store.GetStreamAsync("order-9")).Version);

        AppendResult ok = await Store.AppendAsync("order-1", Events(3, 1), ExpectedVersion.Exactly(2));
        Assert.Equal(3, ok.NextExpectedVersion);
        await Store.AppendAsync("order-1", Events(4, 1), ExpectedVersion.StreamExists);
        await Store.AppendAsync("order-1", Events(5, 1), ExpectedVersion.Any);
        Assert.Equal(5, (await Store.GetStreamAsync("order-1")).Version);
    }

    [Fact]
    public async Task Append_ConcurrentWritersOnOneStream_ExactlyOneWinsEachVersion()
    {
        // 8 writers race to extend one stream with exact expected versions; each version is written once.
        int conflicts = 0;
        await Parallel.ForAsync(0, 8, async (writer, ct) =>
        {
            for (int i = 0; i < 25; i++)
            {
                long version = (await Store.GetStreamAsync("race-1", ct)).Version;
                try
                {
                    await Store.AppendAsync("race-1", Events(writer * 1000 + i, 1), ExpectedVersion.Exactly(version), cancellationToken: ct);
                }
                catch (WrongExpectedVersionException)
                {
                    Interlocked.Increment(ref conflicts);
                }
            }
        });

        IReadOnlyList<RecordedEvent> stream = await Store.ReadStreamAsync("race-1", 1, ReadDirection.Forwards, 1000);
        Assert.Equal(200 - conflicts, stream.Count);
        Assert.Equal(Enumerable.Range(1, stream.Count).Select(v => (long)v), stream.Select(e => e.Version));
    }

    [Fact]
    public async Task ReadStream_Backwards_AndFromAVersion_AndMax()
    {
        await Store.AppendAsync("order-1", Events(1, 5), ExpectedVersion.NoStream);

        Assert.Equal([5L, 4, 3], (await Store.ReadStreamAsync("order-1", long.MaxValue, ReadDirection.Backwards, 3)).Select(e => e.Version));
        Assert.Equal([2L, 1], (await Store.ReadStreamAsync("order-1", 2, ReadDirection.Backwards, 10)).Select(e => e.Version));
        Assert.Equal([4L, 5], (await Store.ReadStreamAsync("order-1", 4, ReadDirection.Forwards, 10)).Select(e => e.Version));
        Assert.Empty(await Store.ReadStreamAsync("nothing-1", 1, ReadDirection.Forwards, 10));
    }

    [Fact]
    public async Task Metadata_MaxCountAndTruncateBefore_DeleteOlderEvents_NowAndOnAppend()
    {
        await Store.AppendAsync("order-1", Events(1, 5), ExpectedVersion.NoStream);
        await Store.SetStreamMetadataAsync("order-1", new StreamMetadata(MaxCount: 3));
        Assert.Equal([3L, 4, 5], (await Store.ReadStreamAsync("order-1", 1, ReadDirection.Forwards, 10)).Select(e => e.Version));

        await Store.AppendAsync("order-1", Events(6, 2), ExpectedVersion.Exactly(5));
        Assert.Equal([5L, 6, 7], (await Store.ReadStreamAsync("order-1", 1, ReadDirection.Forwards, 10)).Select(e => e.Version));

        await Store.SetStreamMetadataAsync("order-1", new StreamMetadata(TruncateBefore: 7));
        Assert.Equal([7L], (await Store.ReadStreamAsync("order-1", 1, ReadDirection.Forwards, 10)).Select(e => e.Version));
        Assert.Equal(new StreamMetadata(null, 7), (await Store.GetStreamAsync("order-1")).Metadata);
        Assert.Single(await Store.ReadAllAsync(1, 100));
    }

    [Fact]
    public async Task Delete_IsSoft_VersionsContinue_AndExpectationsSeeNoStream()
    {
        await Store.AppendAsync("order-1", Events(1, 3), ExpectedVersion.NoStream);
        await Assert.ThrowsAsync<WrongExpectedVersionException>(() => Store.DeleteStreamAsync("order-1", ExpectedVersion.Exactly(2)));
        await Store.DeleteStreamAsync("order-1", ExpectedVersion.Exactly(3));

        StreamInfo info = await Store.GetStreamAsync("order-1");
        Assert.True(info.Deleted);
        Assert.Empty(await Store.ReadStreamAsync("order-1", 1, ReadDirection.Forwards, 10));
        Assert.Empty(await Store.ReadAllAsync(1, 10));

        AppendResult again = await Store.AppendAsync("order-1", Events(9, 1), ExpectedVersion.NoStream);
        Assert.Equal(4, again.NextExpectedVersion); // versions are never reused
        Assert.False((await Store.GetStreamAsync("order-1")).Deleted);
    }

    [Fact]
    public async Task Snapshots_LatestWins_OlderNeverReplacesNewer()
    {
        Assert.Null(await Store.LoadSnapshotAsync<Totals>("order-1"));
        await Store.SaveSnapshotAsync(new Snapshot<Totals>("order-1", 10, new Totals(10, 100m)));
        await Store.SaveSnapshotAsync(new Snapshot<Totals>("order-1", 5, new Totals(5, 50m)));

        Snapshot<Totals>? loaded = await Store.LoadSnapshotAsync<Totals>("order-1");
        Assert.Equal(new Snapshot<Totals>("order-1", 10, new Totals(10, 100m)), loaded);
    }

    [Fact]
    public async Task Decode_WrongPayload_NamesTheEvent()
    {
        await Store.AppendAsync("order-1", Events(1, 1), ExpectedVersion.NoStream);
        RecordedEvent recorded = (await Store.ReadAllAsync(1, 1))[0];
        var ex = Assert.Throws<EventDecodingException>(() => Store.Decode<int[]>(recorded));
        Assert.Contains(recorded.Envelope.Id, ex.Message);
    }

    [Fact]
    public async Task Subscribe_CatchesUpThenGoesLive_NoGapNoDuplicate_WhileWritersAppend()
    {
        await Store.AppendAsync("order-1", Events(1, 300), ExpectedVersion.NoStream); // more than one read batch of history
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        // Writers keep appending while the subscription catches up and switches to live.
        Task writers = Parallel.ForAsync(0, 4, cts.Token, async (w, ct) =>
        {
            for (int i = 0; i < 50; i++)
            {
                await Store.AppendAsync($"order-w{w}", Events(i, 2), ExpectedVersion.Any, cancellationToken: ct);
            }
        });

        var positions = new List<long>();
        await foreach (RecordedEvent recorded in Store.SubscribeAsync(1, category: null, cts.Token))
        {
            positions.Add(recorded.Position);
            if (positions.Count == 300 + (4 * 50 * 2))
            {
                break;
            }
        }

        await writers;
        Assert.Equal(Enumerable.Range(1, 700).Select(p => (long)p), positions);
    }

    [Fact]
    public async Task Subscribe_ByCategory_FromACheckpoint()
    {
        await Store.AppendAsync("order-1", Events(1, 2), ExpectedVersion.NoStream);
        await Store.AppendAsync("orders-1", Events(1, 1), ExpectedVersion.NoStream); // another category, same prefix letters
        await Store.AppendAsync("order-2", Events(1, 2), ExpectedVersion.NoStream);
        await Store.SaveCheckpointAsync("billing", 1);
        Assert.Equal(1, await Store.LoadCheckpointAsync("billing"));
        Assert.Equal(0, await Store.LoadCheckpointAsync("never"));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<(string, long)>();
        await foreach (RecordedEvent recorded in Store.SubscribeAsync(await Store.LoadCheckpointAsync("billing") + 1, "order", cts.Token))
        {
            seen.Add((recorded.StreamId, recorded.Version));
            if (seen.Count == 3)
            {
                break;
            }
        }

        Assert.Equal([("order-1", 2L), ("order-2", 1L), ("order-2", 2L)], seen);
    }

    [Fact]
    public async Task Transaction_CallersWriteAndEventsCommitTogether_OrNeither()
    {
        await using DbConnection connection = await OpenConnectionAsync();
        await ExecuteAsync(connection, null, "CREATE TABLE orders (id integer PRIMARY KEY, total text)");

        await using (DbTransaction rolledBack = await connection.BeginTransactionAsync())
        {
            await ExecuteAsync(connection, rolledBack, "INSERT INTO orders VALUES (1, '10')");
            await Store.AppendAsync("order-1", Events(1, 1), ExpectedVersion.NoStream, rolledBack);
            await rolledBack.RollbackAsync();
        }

        Assert.Equal(0L, Convert.ToInt64(await ScalarAsync(connection, "SELECT count(*) FROM orders"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, (await Store.GetStreamAsync("order-1")).Version);

        await using (DbTransaction committed = await connection.BeginTransactionAsync())
        {
            await ExecuteAsync(connection, committed, "INSERT INTO orders VALUES (1, '10')");
            await Store.AppendAsync("order-1", Events(1, 1), ExpectedVersion.NoStream, committed);
            await committed.CommitAsync();
        }

        Assert.Equal(1L, Convert.ToInt64(await ScalarAsync(connection, "SELECT count(*) FROM orders"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, (await Store.GetStreamAsync("order-1")).Version);
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? tx, string sql)
    {
        await using DbCommand command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, string sql)
    {
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    public sealed record Totals(int Count, decimal Amount);
}
