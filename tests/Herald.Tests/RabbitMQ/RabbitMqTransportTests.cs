using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Herald.RabbitMQ;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Herald.Tests.RabbitMQ;

/// <summary>The handler behaviours on the real broker: each test has its own exchange and queue names.</summary>
[Collection(BrokerCollection.Name)]
public sealed class RabbitMqTransportTests(RabbitMqBroker broker)
{
    private readonly string _unique = $"t{Guid.NewGuid():N}"[..12];

    private Task<HeraldTestHarness> StartAsync(Action<HeraldBuilder> handlers, Seen seen, bool mandatory = false) =>
        HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseRabbitMQ(broker.Uri, o =>
                {
                    o.Exchange = _unique;
                    o.QueuePrefix = _unique + ".";
                    o.Mandatory = mandatory;
                });
                handlers(h);
            },
            s => s.AddSingleton(seen));

    private static UserCreated User(long id) => new(id, $"u{id}@example.com", DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task Publish_IsConfirmed_AndEachGroupGetsEveryEventTyped()
    {
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(
            h =>
            {
                h.AddHandler<Email, UserCreated>();
                h.AddHandler<Points, UserCreated>();
            },
            seen);

        for (int i = 1; i <= 50; i++)
        {
            await harness.Bus.PublishAsync(User(i));
        }

        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 100, TimeSpan.FromSeconds(30));
        Assert.Equal(50, seen.Email.Count);
        Assert.Equal(50, seen.Points.Count);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), seen.Order.Select(o => o.Id)); // one consumer: queue order
    }

    [Fact]
    public async Task AnOrderedGroup_InTwoProcesses_HasOneActiveConsumer_AndKeepsEachKeysOrder()
    {
        var first = new Seen();
        var second = new Seen();
        void Ordered(HeraldBuilder h) => h.AddHandler<Email, UserCreated>(o => { o.OrderedByKey = true; o.Concurrency = 4; });
        await using HeraldTestHarness a = await StartAsync(Ordered, first);
        await using HeraldTestHarness b = await StartAsync(Ordered, second);

        for (int i = 0; i < 200; i++)
        {
            await (i % 2 == 0 ? a : b).Bus.PublishAsync(User(i), new PublishOptions { Key = $"k{i % 5}" });
        }

        DateTimeOffset deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while (first.Order.Count + second.Order.Count < 200)
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"handled {first.Order.Count} + {second.Order.Count} of 200");
            await Task.Delay(20);
        }

        // One consumer of the group was active: the other, a standby, got nothing.
        Assert.True(first.Order.IsEmpty || second.Order.IsEmpty, $"both consumers were active: {first.Order.Count} and {second.Order.Count}");
        long[] handled = [.. (first.Order.IsEmpty ? second : first).Order.Select(o => o.Id)];
        foreach (IGrouping<long, long> key in handled.GroupBy(id => id % 5))
        {
            Assert.Equal(key.Order(), key); // each key in publish order
        }
    }

    [Fact]
    public async Task Retries_GoThroughTheBrokersDelayQueues_AndSurviveARestart_WithTheAttemptCount()
    {
        var seen = new Seen();
        RetryPolicy policy = Retry.Exponential(maxAttempts: 3, initial: TimeSpan.FromMilliseconds(700), factor: 1, jitter: 0);
        await using (HeraldTestHarness first = await StartAsync(h => h.AddHandler<AlwaysFails, UserCreated>(o => { o.Name = "risk"; o.Retry = policy; }), seen))
        {
            await first.Bus.PublishAsync(User(9));
            await first.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Rescheduled, 1, TimeSpan.FromSeconds(30));
        }

        // Stopped before the retry was due: it waits in the broker's delay queue, then comes back with its attempt number.
        await using HeraldTestHarness second = await StartAsync(h => h.AddHandler<AlwaysFails, UserCreated>(o => { o.Name = "risk"; o.Retry = policy; }), seen);
        DeadLetter dead = await second.DeadLettered<UserCreated>(timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(3, dead.Attempts);
        Assert.Equal([(9L, 1), (9L, 2), (9L, 3)], seen.Order);
    }

    [Fact]
    public async Task DeadLetters_GoToTheGroupsDeadLetterQueue_AreListed_AndRedrivenFromThere()
    {
        var seen = new Seen();
        string id;
        await using (HeraldTestHarness first = await StartAsync(h => h.AddHandler<AlwaysFails, UserCreated>(o => { o.Name = "risk"; o.Retry = Retry.None; }), seen))
        {
            await first.Bus.PublishAsync(User(13));
            DeadLetter dead = await first.DeadLettered<UserCreated>(timeout: TimeSpan.FromSeconds(30)); // listed from the queue
            id = dead.Id;
            Assert.Equal("risk", dead.Consumer);
            Assert.Equal(1, dead.Attempts);
            Assert.Contains("timed out", dead.ExceptionMessage);
            Assert.Equal(1, await first.DeadLetters.CountAsync());
        }

        // Another host (the handler fixed): the dead letter is still in the broker, and its redrive is handled.
        var fixedSeen = new Seen();
        await using HeraldTestHarness second = await StartAsync(h => h.AddHandler<Email, UserCreated>(o => o.Name = "risk"), fixedSeen);
        DeadLetter? stored = await second.DeadLetters.GetAsync(id);
        Assert.NotNull(stored);
        Assert.Equal(13, ((UserCreated)new SystemTextJsonEventSerializer().Deserialize(stored.Envelope.EncodedData.Span, typeof(UserCreated))!).Id);
        Assert.True(await second.DeadLetters.RedriveAsync(id));
        await second.Consumed<UserCreated>(e => e.Event.Id == 13, TimeSpan.FromSeconds(30));
        Assert.Equal(0, await second.DeadLetters.CountAsync());
        Assert.Null(await second.DeadLetters.GetAsync(id));
    }

    /// <summary>
    /// Issue 17: from RabbitMQ 4.0 a quorum queue declared without a delivery limit drops a message after 20 deliveries,
    /// and browsing a dead letter returns it to its queue (one delivery each time): the queues are declared with a
    /// limit far beyond Herald's attempts, so a dead letter survives any number of views.
    /// </summary>
    [Fact]
    public async Task QuorumQueues_DeclareADeliveryLimit_SoDeadLettersSurviveBeingBrowsed()
    {
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<AlwaysFails, UserCreated>(o => { o.Name = "risk"; o.Retry = Retry.None; }), seen);
        await harness.Bus.PublishAsync(User(21));
        string id = (await harness.DeadLettered<UserCreated>(timeout: TimeSpan.FromSeconds(30))).Id;
        for (int view = 0; view < 25; view++)
        {
            Assert.NotNull(await harness.DeadLetters.GetAsync(id));
        }

        // The declared argument is part of the queue's identity: a declare without it is refused as inequivalent.
        var factory = new ConnectionFactory { Uri = new Uri(broker.Uri) };
        await using IConnection connection = await factory.CreateConnectionAsync();
        foreach (string queue in new[] { $"{_unique}.risk", $"{_unique}.risk.dead-letter" })
        {
            await using IChannel channel = await connection.CreateChannelAsync();
            var refused = await Assert.ThrowsAnyAsync<global::RabbitMQ.Client.Exceptions.OperationInterruptedException>(() =>
                channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }));
            Assert.Contains("x-delivery-limit", refused.Message);
        }
    }

    [Fact]
    public async Task AQueueDeclaredWithoutTheDeliveryLimit_FailsTheStart_NamingTheQueueAndTheFix()
    {
        var factory = new ConnectionFactory { Uri = new Uri(broker.Uri) };
        await using (IConnection connection = await factory.CreateConnectionAsync())
        await using (IChannel channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync($"{_unique}.risk", durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        }

        Exception failed = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(h => h.AddHandler<Email, UserCreated>(o => o.Name = "risk"), new Seen()));
        var refused = Assert.IsType<InvalidOperationException>(failed is InvalidOperationException ? failed : failed.InnerException, exactMatch: false);
        Assert.Contains($"'{_unique}.risk'", refused.Message);
        Assert.Contains("x-delivery-limit", refused.Message);
        Assert.Contains("docs/rabbitmq.md", refused.Message);
    }

    [Fact]
    public async Task ManyFirstRetriesAtOnce_OnFreshQueues_AreAllHandled()
    {
        // Regression (found by the sample on a fresh broker): the first retry declared the delay queue while other
        // loops, seeing it "declared", already published into it; those unroutable retries vanished.
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(
            h => h.AddHandler<FailsOnce, UserCreated>(o => { o.Concurrency = 16; o.Retry = Retry.Exponential(maxAttempts: 3, initial: TimeSpan.FromMilliseconds(1)); }),
            seen);
        await Parallel.ForAsync(0, 200, async (i, ct) => await harness.Bus.PublishAsync(User(i), ct));
        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 200, TimeSpan.FromSeconds(30));
        Assert.Equal(200, seen.Order.Where(o => o.Attempt == 2).Select(o => o.Id).Distinct().Count());
    }

    [Fact]
    public async Task AnUnroutablePublish_WithMandatory_FailsNamingTheEvent()
    {
        // A bus of its own (the harness binds "#" for its record of what was published, which routes everything).
        await using var bus = new EventBus(new EventBusOptions().UseRabbitMQ(new RabbitMqOptions { Uri = broker.Uri, Exchange = _unique, Mandatory = true }));
        var ex = await Assert.ThrowsAsync<BrokerPublishException>(async () => await bus.PublishAsync(new OrderPaid(1, 2m)));
        Assert.Contains("unroutable", ex.Message);
        Assert.Contains("order.paid", ex.Message);
    }
}
