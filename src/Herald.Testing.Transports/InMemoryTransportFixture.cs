namespace Herald.Testing.Transports;

/// <summary>The in-memory transport (the default): nothing to set up, nothing survives the process, every overflow policy honoured.</summary>
public sealed class InMemoryTransportFixture : TransportFixture
{
    /// <inheritdoc />
    public override TransportFeatures Features { get; } = new()
    {
        Overflows = [Overflow.Wait, Overflow.DropOldest, Overflow.DropNewest, Overflow.Reject],
        PublishWaitsForConsumers = true,
    };

    /// <inheritdoc />
    public override void Use(HeraldBuilder herald)
    {
        // the in-memory transport is the default
    }
}
