using Herald.Testing.Transports;
using Herald.Tests.Postgres;
using Herald.Tests.Support;

namespace Herald.Tests.Conformance;

/// <summary>The PostgreSQL transport against the shared conformance suite, on the test server: an empty body.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresConformanceTests(PostgresServer server) : TransportConformanceTests(new PostgresTransportFixture(server));
