using Herald.Postgres;
using Herald.Tests.Nats;
using Herald.Tests.Postgres;
using Herald.Tests.RabbitMQ;
using Herald.Tests.Support;

namespace Herald.Tests.Versions;

/// <summary>The upgrade (<see cref="UpgradeScenario"/>) on SQLite: old events in the file, read by the new code as version 3.</summary>
public sealed class UpgradeOnSqliteTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public Task VersionOneEvents_LeftInTheFile_AreReadAsVersionThree_AndTooNewOnesAreDeadLettered() =>
        UpgradeScenario.RunAsync(h => h.UseSqlite(_db.ConnectionString, o => o.PollInterval = TimeSpan.FromMilliseconds(20)));
}

/// <summary>The upgrade on RabbitMQ: old events waiting in the groups' queues.</summary>
[Collection(BrokerCollection.Name)]
public sealed class UpgradeOnRabbitMqTests(RabbitMqBroker broker)
{
    private readonly string _unique = $"u{Guid.NewGuid():N}"[..12];

    [Fact]
    public Task VersionOneEvents_WaitingInTheQueues_AreReadAsVersionThree_AndTooNewOnesAreDeadLettered() =>
        UpgradeScenario.RunAsync(h => h.UseRabbitMQ(broker.Uri, o =>
        {
            o.Exchange = _unique;
            o.QueuePrefix = _unique + ".";
        }));
}

/// <summary>The upgrade on PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed class UpgradeOnPostgresTests(PostgresServer server)
{
    private readonly string _schema = $"u{Guid.NewGuid():N}"[..16];

    [Fact]
    public async Task VersionOneEvents_InTheTable_AreReadAsVersionThree_AndTooNewOnesAreDeadLettered()
    {
        string cs = await server.CreateDatabaseAsync("upgrade");
        await UpgradeScenario.RunAsync(h => h.UsePostgres(cs, o => { o.Schema = _schema; o.PollInterval = TimeSpan.FromMilliseconds(50); }));
    }
}

/// <summary>The upgrade on NATS JetStream.</summary>
[Collection(NatsCollection.Name)]
public sealed class UpgradeOnNatsTests(NatsServer server)
{
    private readonly string _unique = $"u{Guid.NewGuid():N}"[..12];

    [Fact]
    public Task VersionOneEvents_InTheStream_AreReadAsVersionThree_AndTooNewOnesAreDeadLettered() =>
        UpgradeScenario.RunAsync(h => h.UseNats(server.Url, o => { o.Stream = _unique.ToUpperInvariant(); o.SubjectPrefix = _unique; }));
}

/// <summary>Old snapshots in PostgreSQL, read through the snapshot upcasters.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SnapshotUpgradeOnPostgresTests(PostgresServer server)
{
    [Fact]
    public async Task OldSnapshots_AreReadThroughTheSnapshotUpcasters_NewerOnesAreNotRead()
    {
        string cs = await server.CreateDatabaseAsync("snapshots");
        await using var store = new PostgresEventStore(new PostgresOptions { ConnectionString = cs });
        await SnapshotUpgrade.RunAsync(store);
    }
}
