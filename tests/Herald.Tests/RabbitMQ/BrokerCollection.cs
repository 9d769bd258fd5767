using Herald.Tests.Support;

namespace Herald.Tests.RabbitMQ;

/// <summary>The tests that talk to the real broker share one, started once for them.</summary>
[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<RabbitMqBroker>
{
    public const string Name = "RabbitMQ broker";
}
