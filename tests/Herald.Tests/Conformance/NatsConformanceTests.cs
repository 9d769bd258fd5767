using Herald.Testing.Transports;
using Herald.Tests.Nats;
using Herald.Tests.Support;

namespace Herald.Tests.Conformance;

/// <summary>The NATS JetStream transport against the shared conformance suite, on the test server: an empty body.</summary>
[Collection(NatsCollection.Name)]
public sealed class NatsConformanceTests(NatsServer server) : TransportConformanceTests(new NatsTransportFixture(server));
