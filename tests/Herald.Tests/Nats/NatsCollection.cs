using Herald.Tests.Support;

namespace Herald.Tests.Nats;

/// <summary>The tests that talk to the real NATS server share one, started once for them.</summary>
[CollectionDefinition(Name)]
public sealed class NatsCollection : ICollectionFixture<NatsServer>
{
    public const string Name = "NATS server";
}
