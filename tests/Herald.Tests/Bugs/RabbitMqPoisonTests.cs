using System.Text;
using Herald.RabbitMQ;
using Herald.Testing;
using Herald.Tests.RabbitMQ;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Herald.Tests.Bugs;

/// <summary>
/// Issue 16, findings 5 and 10 (RabbitMQ): an empty <c>cloudEvents_id</c> or an out-of-range AMQP timestamp threw past
/// the consumer, leaving the message unsettled until the prefetch was full of them; a message that was not a CloudEvent
/// was dead-lettered under its dead-letter queue's name instead of its topic, so listing by topic missed it.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class RabbitMqPoisonTests(RabbitMqBroker broker)
{
    private readonly string _unique = $"t{Guid.NewGuid():N}"[..12];

    private async Task<HeraldTestHarness> StartAsync(Seen seen) =>
        await HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseRabbitMQ(broker.Uri, o =>
                {
                    o.Exchange = _unique;
                    o.QueuePrefix = _unique + ".";
                });
                h.AddHandler<Email, UserCreated>(o => o.Concurrency = 1);
            },
            s => s.AddSingleton(seen));

    private static readonly CreateChannelOptions Confirming = new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    private static BasicProperties CloudEvent(string id) => new()
    {
        Headers = new Dictionary<string, object?>
        {
            ["cloudEvents_specversion"] = "1.0",
            ["cloudEvents_type"] = "user.created",
            ["cloudEvents_source"] = "urn:test",
            ["cloudEvents_id"] = id,
        },
        ContentType = "application/json",
    };

    [Fact]
    public async Task MalformedAttributes_AreDeadLetteredAsPoison_AndNeverStallTheConsumer()
    {
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(seen);
        byte[] body = """{"Id":1,"Email":"a@b.c","CreatedAt":"2026-01-01T00:00:00Z"}"""u8.ToArray();

        var factory = new ConnectionFactory { Uri = new Uri(broker.Uri) };
        await using IConnection connection = await factory.CreateConnectionAsync();
        await using IChannel channel = await connection.CreateChannelAsync(Confirming); // in the queue before Herald's own publish

        // More of each than the consumer's prefetch (16): unsettled, they would fill it and stop every delivery after.
        for (int i = 0; i < 20; i++)
        {
            await channel.BasicPublishAsync(_unique, "user.created", mandatory: false, CloudEvent(id: string.Empty), body);
            BasicProperties farFuture = CloudEvent(id: $"late-{i}");
            farFuture.Timestamp = new AmqpTimestamp(long.MaxValue / 2); // beyond DateTimeOffset's range
            await channel.BasicPublishAsync(_unique, "user.created", mandatory: false, farFuture, body);
        }

        await harness.Bus.PublishAsync(new UserCreated(2, "b@c.d", DateTimeOffset.UnixEpoch));

        await harness.Consumed<UserCreated>(e => e.Event.Id == 2, TimeSpan.FromSeconds(30));
        IReadOnlyList<DeadLetter> letters = await harness.DeadLetters.ListAsync("user.created", max: 100);
        Assert.Equal(40, letters.Count);
        Assert.All(letters, l => Assert.Equal("poison", l.Reason));
        Assert.Equal(20, letters.Count(l => l.ExceptionMessage!.Contains("empty id", StringComparison.Ordinal)));
        Assert.Equal(20, letters.Count(l => l.ExceptionMessage!.Contains("malformed", StringComparison.Ordinal)));
        Assert.Single(seen.Email);
    }

    [Fact]
    public async Task AMessageThatIsNotACloudEvent_IsDeadLetteredUnderItsTopic()
    {
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(seen);

        var factory = new ConnectionFactory { Uri = new Uri(broker.Uri) };
        await using IConnection connection = await factory.CreateConnectionAsync();
        await using IChannel channel = await connection.CreateChannelAsync(Confirming); // in the queue before Herald's own publish
        await channel.BasicPublishAsync(_unique, "user.created", mandatory: false, new BasicProperties(), "not a cloud event"u8.ToArray());
        await harness.Bus.PublishAsync(new UserCreated(2, "b@c.d", DateTimeOffset.UnixEpoch));
        await harness.Consumed<UserCreated>(e => e.Event.Id == 2, TimeSpan.FromSeconds(30));

        DeadLetter letter = Assert.Single(await harness.DeadLetters.ListAsync("user.created"));
        Assert.Equal("user.created", letter.Envelope.Type);
        Assert.Equal("not a cloud event", Encoding.UTF8.GetString(letter.Envelope.EncodedData.Span));
    }
}
