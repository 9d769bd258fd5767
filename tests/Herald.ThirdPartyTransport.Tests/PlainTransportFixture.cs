using Herald.Testing.Transports;

namespace Herald.ThirdPartyTransport.Tests;

/// <summary>Puts the harness on the <see cref="PlainTransport"/> through the public <see cref="EventBusOptions.TransportFactory"/>.</summary>
public sealed class PlainTransportFixture : TransportFixture
{
    public override TransportFeatures Features { get; } = new() { PublishWaitsForConsumers = true };

    public override void Use(HeraldBuilder herald) => herald.Bus.TransportFactory = context => new PlainTransport(context);
}
