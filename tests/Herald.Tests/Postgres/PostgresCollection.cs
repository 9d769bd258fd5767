using Herald.Tests.Support;

namespace Herald.Tests.Postgres;

/// <summary>The tests that talk to the real PostgreSQL server share one cluster, started once for them; each test makes its own database.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL server";
}
