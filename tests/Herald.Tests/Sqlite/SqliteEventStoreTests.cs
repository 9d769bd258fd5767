using System.Data.Common;
using Herald.Sqlite;
using Herald.Tests.Store;
using Herald.Tests.Support;

namespace Herald.Tests.Sqlite;

/// <summary>The event-store conformance suite on SQLite: a new file per test.</summary>
public sealed class SqliteEventStoreTests : EventStoreConformanceTests
{
    private readonly TempDatabase _db = new();

    protected override Task<IEventStore> CreateStoreAsync() => Task.FromResult<IEventStore>(new SqliteEventStore(_db.Options()));

    protected override async Task<DbConnection> OpenConnectionAsync()
    {
        var connection = new Microsoft.Data.Sqlite.SqliteConnection(_db.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _db.Dispose();
    }
}
