using Herald.Diagnostics;
using Herald.InMemory;
using Herald.Tests.Support;
using Herald.Transport;

namespace Herald.Tests.Transport;

public sealed class InMemoryTransportTests
{
    private static ConsumerSpec Spec(string pattern, int capacity = 16) =>
        new("spec", TopicPattern.Parse(pattern)) { Capacity = capacity };

    private static TransportContext Context(BusTelemetry telemetry) => new("test", telemetry);

    [Fact]
    public async Task Nack_PutsDeliveryBackWithNextAttempt()
    {
        using var telemetry = new BusTelemetry(new EventBusOptions());
        TransportContext context = Context(telemetry);
        await using var transport = new InMemoryTransport(context);
        await using IConsumer consumer = await transport.SubscribeAsync(Spec("user.*"), CancellationToken.None);

        await transport.PublishAsync(new Envelope("user.created", TestEvents.User(1), TestEvents.Now), CancellationToken.None);
        Assert.True(consumer.TryRead(0, out Delivery first));
        Assert.Equal(1, first.Attempt);

        await first.NackAsync(CancellationToken.None);
        Assert.True(consumer.TryRead(0, out Delivery second));

        Assert.Equal(2, second.Attempt);
        Assert.Equal(first.Envelope.Id, second.Envelope.Id);
        await second.AckAsync(CancellationToken.None);
        Assert.False(consumer.TryRead(0, out _));
    }

    [Fact]
    public async Task Subscribe_ReceivesFromRegistration_BeforeAnyRead()
    {
        using var telemetry = new BusTelemetry(new EventBusOptions());
        TransportContext context = Context(telemetry);
        await using var transport = new InMemoryTransport(context);
        await transport.PublishAsync(new Envelope("user.created", null, TestEvents.Now), CancellationToken.None);
        await using IConsumer consumer = await transport.SubscribeAsync(Spec("#"), CancellationToken.None);
        await transport.PublishAsync(new Envelope("user.deleted", null, TestEvents.Now), CancellationToken.None);

        Assert.True(consumer.TryReadAny(out Delivery only));
        Assert.Equal("user.deleted", only.Envelope.Type);
        Assert.False(consumer.TryReadAny(out _));
        Assert.Equal(1, context.Unrouted);
    }

    [Fact]
    public async Task RouteCache_IsRebuiltWhenSubscriptionsChange()
    {
        using var telemetry = new BusTelemetry(new EventBusOptions());
        TransportContext context = Context(telemetry);
        await using var transport = new InMemoryTransport(context);
        IConsumer a = await transport.SubscribeAsync(Spec("order.*"), CancellationToken.None);
        await transport.PublishAsync(new Envelope("order.paid", null, TestEvents.Now), CancellationToken.None);
        IConsumer b = await transport.SubscribeAsync(Spec("order.#"), CancellationToken.None);
        await transport.PublishAsync(new Envelope("order.paid", null, TestEvents.Now), CancellationToken.None);
        await a.DisposeAsync();
        await transport.PublishAsync(new Envelope("order.paid", null, TestEvents.Now), CancellationToken.None);

        Assert.Equal(2, a.Stats.Delivered + a.Stats.Queued + a.Stats.DroppedDisposed);
        Assert.Equal(2, b.Stats.Queued);
        await b.DisposeAsync();
    }
}
