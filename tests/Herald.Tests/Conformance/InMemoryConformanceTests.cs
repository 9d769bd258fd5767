using Herald.Testing.Transports;

namespace Herald.Tests.Conformance;

/// <summary>The in-memory transport against the shared conformance suite.</summary>
public sealed class InMemoryConformanceTests() : TransportConformanceTests(new InMemoryTransportFixture());
