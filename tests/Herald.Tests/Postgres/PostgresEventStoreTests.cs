using System.Data.Common;
using Herald.Postgres;
using Herald.Tests.Store;
using Herald.Tests.Support;
using Npgsql;

namespace Herald.Tests.Postgres;

/// <summary>The event-store conformance suite on a real PostgreSQL server: a new database per test.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresEventStoreTests(PostgresServer server) : EventStoreConformanceTests
{
    private string _connectionString = "";

    protected override async Task<IEventStore> CreateStoreAsync()
    {
        _connectionString = await server.CreateDatabaseAsync("es");
        return new PostgresEventStore(new PostgresOptions { ConnectionString = _connectionString });
    }

    protected override async Task<DbConnection> OpenConnectionAsync()
    {
        var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        return connection;
    }
}
