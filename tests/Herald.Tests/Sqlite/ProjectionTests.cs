using System.Collections.Concurrent;
using Herald.Sqlite;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Herald.Tests.Sqlite;

public sealed class ProjectionTests : IDisposable
{
    private readonly TempDatabase _db = new();
    private readonly SqliteEventStore _store;

    public ProjectionTests() => _store = new SqliteEventStore(_db.Options());

    public void Dispose()
    {
        _store.Dispose();
        _db.Dispose();
    }

    /// <summary>Sums paid amounts per order: a read model keyed by stream, tolerant of replays (it keeps the last version).</summary>
    public sealed class OrderTotals(IEventStore store) : IProjection
    {
        public ConcurrentDictionary<string, (long Version, decimal Total)> Totals { get; } = new();

        public ConcurrentQueue<long> Applied { get; } = new();

        public TaskCompletionSource<long> Reached { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Until { get; set; } = long.MaxValue;

        public string Name => "order-totals";

        public string? Category => "order";

        public Task ApplyAsync(RecordedEvent recordedEvent, CancellationToken cancellationToken)
        {
            OrderPaid paid = store.Decode<OrderPaid>(recordedEvent);
            Totals.AddOrUpdate(
                recordedEvent.StreamId,
                _ => (recordedEvent.Version, paid.Amount),
                (_, old) => recordedEvent.Version > old.Version ? (recordedEvent.Version, old.Total + paid.Amount) : old);
            Applied.Enqueue(recordedEvent.Position);
            if (recordedEvent.Position >= Until)
            {
                Reached.TrySetResult(recordedEvent.Position);
            }

            return Task.CompletedTask;
        }

        public Task ResetAsync(CancellationToken cancellationToken)
        {
            Totals.Clear();
            return Task.CompletedTask;
        }
    }

    private Task AppendAsync(string stream, params decimal[] amounts) =>
        _store.AppendEventsAsync(stream, ExpectedVersion.Any, [.. amounts.Select((a, i) => (object)new OrderPaid(i, a))]);

    [Fact]
    public async Task Runner_AppliesItsCategoryFromTheCheckpoint_StoresIt_AndRebuildsFromZero()
    {
        await AppendAsync("order-1", 10m, 5m);
        await AppendAsync("invoice-1", 99m);
        await AppendAsync("order-2", 7m);
        var projection = new OrderTotals(_store) { Until = 4 };
        var runner = new ProjectionRunner(_store);

        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            Task run = runner.RunAsync(projection, cts.Token);
            await projection.Reached.Task.WaitAsync(cts.Token);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }

        Assert.Equal(15m, projection.Totals["order-1"].Total);
        Assert.Equal(7m, projection.Totals["order-2"].Total);
        Assert.False(projection.Totals.ContainsKey("invoice-1"));
        Assert.Equal(4, await _store.LoadCheckpointAsync("order-totals"));

        // Resumed: only what came after the checkpoint.
        await AppendAsync("order-1", 1m);
        projection.Applied.Clear();
        projection.Reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        projection.Until = 5;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            Task run = runner.RunAsync(projection, cts.Token);
            await projection.Reached.Task.WaitAsync(cts.Token);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }

        Assert.Equal([5L], projection.Applied);
        Assert.Equal(16m, projection.Totals["order-1"].Total);

        // Rebuilt: everything again, from an empty read model.
        await runner.ResetAsync(projection);
        Assert.Empty(projection.Totals);
        projection.Applied.Clear();
        projection.Reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            Task run = runner.RunAsync(projection, cts.Token);
            await projection.Reached.Task.WaitAsync(cts.Token);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }

        Assert.Equal([1L, 2, 4, 5], projection.Applied);
        Assert.Equal(16m, projection.Totals["order-1"].Total);
    }

    [Fact]
    public async Task Host_RunsRegisteredProjections_Live()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHerald(h =>
        {
            h.UseSqlite(_db.ConnectionString, o => o.PollInterval = TimeSpan.FromMilliseconds(20));
            h.AddProjection<OrderTotals>();
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        IHostedService[] hosted = [.. provider.GetServices<IHostedService>()];
        foreach (IHostedService service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        OrderTotals projection = provider.GetRequiredService<OrderTotals>();
        projection.Until = 3;
        IEventStore store = provider.GetRequiredService<IEventStore>();
        await store.AppendEventsAsync("order-9", ExpectedVersion.NoStream, [new OrderPaid(1, 2m), new OrderPaid(2, 3m), new OrderPaid(3, 4m)]);
        await projection.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(9m, projection.Totals["order-9"].Total);

        foreach (IHostedService service in hosted.Reverse())
        {
            await service.StopAsync(CancellationToken.None);
        }

        Assert.Equal(3, await store.LoadCheckpointAsync("order-totals"));
    }

    [Fact]
    public async Task LoadAggregate_FromSnapshotAndLaterEvents_ReturnsTheVersionToAppendAt()
    {
        await AppendAsync("order-1", 10m, 20m, 30m);
        await _store.SaveSnapshotAsync(new Snapshot<decimal>("order-1", 2, 30m));
        await AppendAsync("order-1", 40m);

        int applied = 0;
        (decimal total, long version) = await _store.LoadAggregateAsync("order-1", 0m, (sum, e) =>
        {
            applied++;
            return sum + _store.Decode<OrderPaid>(e).Amount;
        });

        Assert.Equal(100m, total);
        Assert.Equal(4, version);
        Assert.Equal(2, applied); // versions 3 and 4 only: the snapshot covered 1 and 2
        await _store.AppendEventsAsync("order-1", ExpectedVersion.Exactly(version), [new OrderPaid(5, 1m)]);

        (decimal fresh, long none) = await _store.LoadAggregateAsync("order-404", -1m, (s, _) => s);
        Assert.Equal(-1m, fresh);
        Assert.Equal(0, none);
    }
}
