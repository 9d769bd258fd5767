using System.Text.Json;
using Herald.RabbitMQ;
using Herald.Testing;
using Herald.Tests.Sqlite;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Herald.Tests.RabbitMQ;

/// <summary>
/// A non-Herald client, Node.js with amqplib (tests/interop, installed with npm ci on first use), exchanges
/// CloudEvents in binary content mode with Herald through the real broker, both ways.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class NodeInteropTests(RabbitMqBroker broker)
{
    private readonly string _unique = $"n{Guid.NewGuid():N}"[..12];

    public sealed class Payments(ConcurrentBagOf<OrderPaid> paid) : IEventHandler<OrderPaid>
    {
        public Task HandleAsync(EventContext<OrderPaid> context, CancellationToken cancellationToken)
        {
            paid.Add(context.Event, context.Envelope);
            return Task.CompletedTask;
        }
    }

    public sealed class ConcurrentBagOf<T>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(T Event, Envelope Envelope)> _items = new();

        public IReadOnlyCollection<(T Event, Envelope Envelope)> Items => _items;

        public void Add(T item, Envelope envelope) => _items.Enqueue((item, envelope));
    }

    [Fact]
    public async Task ANodeProducersCloudEvent_IsReceivedTyped_AndHeraldsEventIsReadByNode_WithTheCloudEventsHeaders()
    {
        var paid = new ConcurrentBagOf<OrderPaid>();
        await using HeraldTestHarness harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseRabbitMQ(broker.Uri, o => { o.Exchange = _unique; o.QueuePrefix = _unique + "."; });
                h.AddHandler<Payments, OrderPaid>();
            },
            s => s.AddSingleton(paid));

        // Node -> Herald
        string published = await NodeAsync("publish", broker.Uri, _unique, "order.paid", "{\"orderId\":77,\"amount\":12.5}");
        string nodeId = JsonDocument.Parse(published).RootElement.GetProperty("id").GetString()!;
        EventContext<OrderPaid> received = await harness.Consumed<OrderPaid>(e => e.Event.OrderId == 77, TimeSpan.FromSeconds(30));
        Assert.Equal(12.5m, received.Event.Amount);
        Assert.Equal(nodeId, received.Id);
        Assert.Equal("urn:node:interop", received.Envelope.Source);
        Assert.Equal("node-key", received.Envelope.Subject);

        // Herald -> Node: a queue of the Node consumer bound for user.created
        string nodeQueue = $"{_unique}.node";
        var factory = new ConnectionFactory { Uri = new Uri(broker.Uri) };
        await using (IConnection connection = await factory.CreateConnectionAsync())
        await using (IChannel channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync(nodeQueue, durable: false, exclusive: false, autoDelete: false);
            await channel.QueueBindAsync(nodeQueue, _unique, "user.created");
        }

        var envelope = new Envelope("user.created", new UserCreated(5, "five@example.com", DateTimeOffset.UnixEpoch), DateTimeOffset.UtcNow) { Subject = "user-5" };
        await harness.Bus.PublishAsync(envelope);
        JsonElement read = JsonDocument.Parse(await NodeAsync("consume", broker.Uri, nodeQueue)).RootElement;
        JsonElement headers = read.GetProperty("headers");
        Assert.Equal("application/json", read.GetProperty("contentType").GetString());
        Assert.Equal(envelope.Id, read.GetProperty("messageId").GetString());
        Assert.Equal("1.0", headers.GetProperty("cloudEvents_specversion").GetString());
        Assert.Equal(envelope.Id, headers.GetProperty("cloudEvents_id").GetString());
        Assert.Equal("user.created", headers.GetProperty("cloudEvents_type").GetString());
        Assert.Equal("user-5", headers.GetProperty("cloudEvents_subject").GetString());
        Assert.Equal(envelope.Source, headers.GetProperty("cloudEvents_source").GetString());
        Assert.Contains("five@example.com", read.GetProperty("body").GetString());
    }

    private static Task<string> NodeAsync(params string[] arguments) => NodeInterop.RunAsync("amqp-interop.mjs", arguments);
}
