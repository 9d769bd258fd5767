using Herald.Testing.Transports;

namespace Herald.Tests.Conformance;

/// <summary>The SQLite transport against the shared conformance suite.</summary>
public sealed class SqliteConformanceTests() : TransportConformanceTests(new SqliteTransportFixture());
