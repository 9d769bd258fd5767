using System.Text.Json;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Nats;

/// <summary>
/// A non-Herald client, Node.js with the nats package (tests/interop, installed with npm ci on first use), exchanges
/// CloudEvents in the NATS binding's binary mode with Herald through the real server, both ways.
/// </summary>
[Collection(NatsCollection.Name)]
public sealed class NatsNodeInteropTests(NatsServer server)
{
    private readonly string _unique = $"n{Guid.NewGuid():N}"[..12];

    public sealed class Payments(Received received) : IEventHandler<OrderPaid>
    {
        public Task HandleAsync(EventContext<OrderPaid> context, CancellationToken cancellationToken)
        {
            received.Items.Enqueue((context.Event, context.Envelope));
            return Task.CompletedTask;
        }
    }

    public sealed class Received
    {
        public System.Collections.Concurrent.ConcurrentQueue<(OrderPaid Event, Envelope Envelope)> Items { get; } = new();
    }

    [Fact]
    public async Task ANodeProducersCloudEvent_IsReceivedTyped_AndHeraldsEventIsReadByNode_WithTheCeHeaders()
    {
        string stream = _unique.ToUpperInvariant();
        await using HeraldTestHarness harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseNats(server.Url, o => { o.Stream = stream; o.SubjectPrefix = _unique; });
                h.AddHandler<Payments, OrderPaid>();
            },
            s => s.AddSingleton(new Received()));

        // Node -> Herald: binary mode, a percent-encoded subject
        string published = await NodeInterop.RunAsync("nats-interop.mjs", "publish", server.Url, $"{_unique}.order.paid", "{\"orderId\":77,\"amount\":12.5}");
        string nodeId = JsonDocument.Parse(published).RootElement.GetProperty("id").GetString()!;
        EventContext<OrderPaid> received = await harness.Consumed<OrderPaid>(e => e.Event.OrderId == 77, TimeSpan.FromSeconds(30));
        Assert.Equal(12.5m, received.Event.Amount);
        Assert.Equal(nodeId, received.Id);
        Assert.Equal("urn:node:interop", received.Envelope.Source);
        Assert.Equal("node key", received.Envelope.Subject);

        // Herald -> Node: the ce- headers a CloudEvents NATS consumer reads, the payload as the body
        var envelope = new Envelope("user.created", new UserCreated(5, "five@example.com", DateTimeOffset.UnixEpoch), DateTimeOffset.UtcNow) { Subject = "user 5" };
        await harness.Bus.PublishAsync(envelope);
        JsonElement read = JsonDocument.Parse(await NodeInterop.RunAsync("nats-interop.mjs", "consume", server.Url, stream, $"{_unique}.user.created")).RootElement;
        JsonElement headers = read.GetProperty("headers");
        Assert.Equal($"{_unique}.user.created", read.GetProperty("subject").GetString());
        Assert.Equal("1.0", headers.GetProperty("ce-specversion").GetString());
        Assert.Equal(envelope.Id, headers.GetProperty("ce-id").GetString());
        Assert.Equal("user.created", headers.GetProperty("ce-type").GetString());
        Assert.Equal("user%205", headers.GetProperty("ce-subject").GetString());
        Assert.Equal(envelope.Source, headers.GetProperty("ce-source").GetString());
        Assert.Equal("application/json", headers.GetProperty("ce-datacontenttype").GetString());
        Assert.Equal(envelope.Id, headers.GetProperty("nats-msg-id").GetString());
        Assert.Contains("five@example.com", read.GetProperty("body").GetString());
    }
}
