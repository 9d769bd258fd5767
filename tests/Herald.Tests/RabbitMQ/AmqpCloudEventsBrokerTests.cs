using Herald.RabbitMQ;
using Herald.Tests.Support;
using RabbitMQ.Client;

namespace Herald.Tests.RabbitMQ;

/// <summary>The envelope mapping through a real broker: what RabbitMQ hands back decodes to what was sent.</summary>
[Collection(BrokerCollection.Name)]
public sealed class AmqpCloudEventsBrokerTests(RabbitMqBroker broker)
{
    [Fact]
    public async Task AnEnvelope_ThroughTheBroker_DecodesToTheSameEvent()
    {
        var factory = new ConnectionFactory { Uri = new Uri(broker.Uri) };
        await using IConnection connection = await factory.CreateConnectionAsync();
        await using IChannel channel = await connection.CreateChannelAsync();
        string queue = $"herald-test-{Guid.NewGuid():N}";
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: true, autoDelete: true);

        var envelope = new Envelope("user.created", new UserCreated(7, "a@b.c", DateTimeOffset.UnixEpoch), new DateTimeOffset(2026, 11, 23, 1, 2, 3, TimeSpan.Zero))
        {
            Subject = "user-7",
            Headers = new Dictionary<string, string> { ["tenant"] = "acme" },
        };
        var serializer = new SystemTextJsonEventSerializer();
        (BasicProperties properties, ReadOnlyMemory<byte> body) = AmqpCloudEvents.Encode(envelope, serializer);
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, body);

        BasicGetResult? got = null;
        for (int i = 0; i < 100 && got is null; i++)
        {
            got = await channel.BasicGetAsync(queue, autoAck: true); // the broker routes asynchronously: poll a little
            if (got is null)
            {
                await Task.Delay(20);
            }
        }

        Assert.NotNull(got);
        Envelope read = AmqpCloudEvents.Decode(got.BasicProperties, got.Body, DateTimeOffset.UnixEpoch);
        Assert.Equal(envelope.Id, read.Id);
        Assert.Equal(envelope.Time, read.Time);
        Assert.Equal("user-7", read.Subject);
        Assert.Equal("acme", read.Headers["tenant"]);
        Assert.Equal(7, ((UserCreated)serializer.Deserialize(read.EncodedData.Span, typeof(UserCreated))!).Id);
    }
}
