using Herald.Diagnostics;
using Herald.InMemory;
using Herald.Tests.Support;
using Herald.Transport;

namespace Herald.Tests.Transport;

public sealed class InMemoryTransportTests
{
    private static ConsumerSpec Spec(string pattern, int capacity = 16) =>
        new("spec", Group: null, TopicPattern.Parse(pattern), capacity, Overflow.Wait, Lanes: 1);

    [Fact]
    public async Task Nack_PutsDeliveryBackWithNextAttempt()
    {
        using var telemetry = new BusTelemetry(new EventBusOptions());
        await using var transport = new InMemoryTransport(telemetry);
        await using IConsumer consumer = transport.Subscribe(Spec("user.*"));

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
        await using var transport = new InMemoryTransport(telemetry);
        await transport.PublishAsync(new Envelope("user.created", null, TestEvents.Now), CancellationToken.None);
        await using IConsumer consumer = transport.Subscribe(Spec("#"));
        await transport.PublishAsync(new Envelope("user.deleted", null, TestEvents.Now), CancellationToken.None);

        Assert.True(consumer.TryReadAny(out Delivery only));
        Assert.Equal("user.deleted", only.Envelope.Type);
        Assert.False(consumer.TryReadAny(out _));
        Assert.Equal(1, transport.Unrouted);
    }

    [Fact]
    public async Task RouteCache_IsRebuiltWhenSubscriptionsChange()
    {
        using var telemetry = new BusTelemetry(new EventBusOptions());
        await using var transport = new InMemoryTransport(telemetry);
        IConsumer a = transport.Subscribe(Spec("order.*"));
        await transport.PublishAsync(new Envelope("order.paid", null, TestEvents.Now), CancellationToken.None);
        IConsumer b = transport.Subscribe(Spec("order.#"));
        await transport.PublishAsync(new Envelope("order.paid", null, TestEvents.Now), CancellationToken.None);
        await a.DisposeAsync();
        await transport.PublishAsync(new Envelope("order.paid", null, TestEvents.Now), CancellationToken.None);

        Assert.Equal(2, a.Stats.Delivered + a.Stats.Queued + a.Stats.DroppedDisposed);
        Assert.Equal(2, b.Stats.Queued);
        await b.DisposeAsync();
    }
}
