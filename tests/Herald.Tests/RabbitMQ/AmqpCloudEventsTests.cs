using System.Text;
using Herald.RabbitMQ;
using Herald.Tests.Support;
using RabbitMQ.Client;

namespace Herald.Tests.RabbitMQ;

public sealed class AmqpCloudEventsTests
{
    private static readonly DateTimeOffset Time = new(2026, 11, 23, 12, 30, 15, 123, TimeSpan.Zero);
    private static readonly SystemTextJsonEventSerializer Json = new();

    /// <summary>What a broker hands a consumer: string headers arrive as bytes (AMQP long strings).</summary>
    private static BasicProperties AsReceived(BasicProperties sent) => new()
    {
        MessageId = sent.MessageId,
        Timestamp = sent.Timestamp,
        ContentType = sent.ContentType,
        Headers = sent.Headers!.ToDictionary(h => h.Key, h => h.Value is string s ? (object?)Encoding.UTF8.GetBytes(s) : h.Value),
    };

    [Fact]
    public void Encode_ThenDecode_KeepsEveryAttribute_AndThePayloadIsTheBody()
    {
        var envelope = new Envelope("user.created", new UserCreated(42, "a@b.c", Time), Time)
        {
            Source = "urn:herald:test",
            Subject = "user-42",
            DataSchema = "urn:schema:v1",
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            CorrelationId = "corr-1",
            CausationId = "cause-1",
            Attempt = 2,
            Headers = new Dictionary<string, string> { ["tenant"] = "acme" },
        };

        (BasicProperties sent, ReadOnlyMemory<byte> body) = AmqpCloudEvents.Encode(envelope, Json);
        Assert.Equal(envelope.Id, sent.MessageId);
        Assert.Equal("application/json", sent.ContentType);
        Assert.Equal(Time.ToUnixTimeSeconds(), sent.Timestamp.UnixTime);
        Assert.True(sent.Persistent);
        Assert.Equal("user.created", sent.Headers!["cloudEvents_type"]);
        Assert.Equal("acme", sent.Headers["cloudEvents_tenant"]);
        Assert.Equal(42, ((UserCreated)Json.Deserialize(body.Span, typeof(UserCreated))!).Id);

        Envelope read = AmqpCloudEvents.Decode(AsReceived(sent), body, DateTimeOffset.UnixEpoch);
        Assert.Equal(envelope.Id, read.Id);
        Assert.Equal("user.created", read.Type);
        Assert.Equal("urn:herald:test", read.Source);
        Assert.Equal(Time, read.Time); // the header keeps the full precision; the property has whole seconds
        Assert.Equal("user-42", read.Subject);
        Assert.Equal("urn:schema:v1", read.DataSchema);
        Assert.Equal(envelope.TraceParent, read.TraceParent);
        Assert.Equal("corr-1", read.CorrelationId);
        Assert.Equal("cause-1", read.CausationId);
        Assert.Equal(2, read.Attempt);
        Assert.Equal("acme", Assert.Single(read.Headers).Value);
        Assert.Equal("application/json", read.DataContentType);
        Assert.Equal(body.ToArray(), read.EncodedData.ToArray());
    }

    [Fact]
    public void Decode_AForeignProducersMessage_WithTheOlderPrefix_AndOnlyRequiredAttributes()
    {
        var properties = new BasicProperties
        {
            ContentType = "application/json",
            Headers = new Dictionary<string, object?>
            {
                ["cloudEvents:specversion"] = Encoding.UTF8.GetBytes("1.0"),
                ["cloudEvents:id"] = Encoding.UTF8.GetBytes("node-1"),
                ["cloudEvents:source"] = Encoding.UTF8.GetBytes("urn:node"),
                ["cloudEvents:type"] = Encoding.UTF8.GetBytes("order.paid"),
                ["x-death"] = new List<object>(), // broker metadata, not an attribute
            },
        };
        DateTimeOffset received = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        Envelope read = AmqpCloudEvents.Decode(properties, "{\"orderId\":7,\"amount\":1.5}"u8.ToArray(), received);
        Assert.Equal("node-1", read.Id);
        Assert.Equal("order.paid", read.Type);
        Assert.Equal(received, read.Time); // no time attribute, no timestamp: when it was received
        Assert.Equal(1, read.Attempt);
        Assert.Empty(read.Headers);
        Assert.Equal(7, ((OrderPaid)Json.Deserialize(read.EncodedData.Span, typeof(OrderPaid))!).OrderId);
    }

    [Theory]
    [InlineData(null, "order.paid", "no cloudEvents_specversion")]
    [InlineData("0.3", "order.paid", "specversion '0.3' is not supported")]
    [InlineData("1.0", null, "has no type")]
    [InlineData("1.0", "Order.Paid", "not a Herald topic")]
    public void Decode_BadMessages_AreRefusedNamingTheProblem(string? specVersion, string? type, string expected)
    {
        var headers = new Dictionary<string, object?> { ["cloudEvents_id"] = "x", ["cloudEvents_source"] = "urn:x" };
        if (specVersion is not null)
        {
            headers["cloudEvents_specversion"] = specVersion;
        }

        if (type is not null)
        {
            headers["cloudEvents_type"] = type;
        }

        var ex = Assert.Throws<EventDecodingException>(() => AmqpCloudEvents.Decode(new BasicProperties { Headers = headers }, ReadOnlyMemory<byte>.Empty, DateTimeOffset.UnixEpoch));
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData(1, 1024, 1, 16)]
    [InlineData(4, 1024, 1, 40)]
    [InlineData(8, 32, 1, 32)]
    [InlineData(8, 32, 8, 80)]
    public void Prefetch_FollowsTheConcurrency_WithinWhatTheLanesHold(int concurrency, int capacity, int lanes, int expected)
    {
        var spec = new Herald.Transport.ConsumerSpec("c", TopicPattern.Parse("user.created")) { Capacity = capacity, Lanes = lanes, Concurrency = concurrency };
        Assert.Equal(expected, RabbitMqConsumer.Prefetch(spec));
    }
}
