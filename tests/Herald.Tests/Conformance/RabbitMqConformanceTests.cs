using Herald.Testing.Transports;
using Herald.Tests.RabbitMQ;
using Herald.Tests.Support;

namespace Herald.Tests.Conformance;

/// <summary>The RabbitMQ transport against the shared conformance suite, on the test broker.</summary>
[Collection(BrokerCollection.Name)]
public sealed class RabbitMqConformanceTests(RabbitMqBroker broker) : TransportConformanceTests(new RabbitMqTransportFixture(broker));
