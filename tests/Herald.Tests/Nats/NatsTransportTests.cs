using System.Collections.Concurrent;
using Herald.Nats;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Herald.Tests.Nats;

/// <summary>What the NATS transport does beyond the conformance suite, on the real server: progress for long handlers, patterns JetStream cannot filter exactly, a consumer deleted under a member, refusals.</summary>
[Collection(NatsCollection.Name)]
public sealed class NatsTransportTests(NatsServer server)
{
    private readonly string _unique = $"t{Guid.NewGuid():N}"[..12];

    private string Stream => _unique.ToUpperInvariant();

    public sealed class Runs
    {
        public ConcurrentQueue<(string Topic, long Id, int Attempt)> Seen { get; } = new();
    }

    public sealed class Slow(Runs runs) : IEventHandler<UserCreated>
    {
        public async Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            runs.Seen.Enqueue((context.Envelope.Type, context.Event.Id, context.Attempt));
            await Task.Delay(TimeSpan.FromSeconds(4), cancellationToken); // twice AckWait
        }
    }

    public sealed class Any(Runs runs) : IEventHandler<object>
    {
        public Task HandleAsync(EventContext<object> context, CancellationToken cancellationToken)
        {
            runs.Seen.Enqueue((context.Envelope.Type, 0, context.Attempt));
            return Task.CompletedTask;
        }
    }

    public sealed class Fast(Runs runs) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            runs.Seen.Enqueue((context.Envelope.Type, context.Event.Id, context.Attempt));
            return Task.CompletedTask;
        }
    }

    private Task<HeraldTestHarness> StartAsync(Runs runs, Action<HeraldBuilder> handlers, Action<NatsOptions>? configure = null) =>
        HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseNats(server.Url, o =>
                {
                    o.Stream = Stream;
                    o.SubjectPrefix = _unique;
                    configure?.Invoke(o);
                });
                handlers(h);
            },
            s => s.AddSingleton(runs));

    [Fact]
    public async Task AHandlerLongerThanAckWait_IsNotRedelivered_UnderIt()
    {
        var runs = new Runs();
        await using HeraldTestHarness harness = await StartAsync(runs, h => h.AddHandler<Slow, UserCreated>(o => o.Timeout = TimeSpan.FromSeconds(30)), o => o.AckWait = TimeSpan.FromSeconds(2));
        await harness.Bus.PublishAsync(new UserCreated(1, "a@b.c", DateTimeOffset.UnixEpoch));
        await harness.Bus.PublishAsync(new UserCreated(2, "a@b.c", DateTimeOffset.UnixEpoch));

        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 2, TimeSpan.FromSeconds(60));
        Assert.Equal([(1L, 1), (2L, 1)], runs.Seen.Select(s => (s.Id, s.Attempt)));
        Assert.DoesNotContain(harness.Deliveries, d => d.Outcome == DeliveryOutcome.Duplicate); // +WPI kept both from coming again
    }

    [Fact]
    public async Task APatternWithAHashBeforeTheEnd_GetsWhatItMatches_AndNothingElse()
    {
        var runs = new Runs();
        await using HeraldTestHarness harness = await StartAsync(runs, h => h.AddHandler<Any>("#.created", o => o.Name = "created"));
        await harness.Bus.PublishAsync(new UserDeleted(1));
        await harness.Bus.PublishAsync(new UserCreated(2, "a@b.c", DateTimeOffset.UnixEpoch));
        await harness.DeliveriesAsync(d => d.Handler == "created", 1, TimeSpan.FromSeconds(30));
        await harness.Bus.PublishAsync(new UserCreated(3, "a@b.c", DateTimeOffset.UnixEpoch));
        await harness.DeliveriesAsync(d => d.Handler == "created", 2, TimeSpan.FromSeconds(30));
        Assert.All(runs.Seen, s => Assert.Equal("user.created", s.Topic));
    }

    [Fact]
    public async Task AConsumerDeletedUnderARunningMember_IsMadeAgain_AndConsumingGoesOn()
    {
        var runs = new Runs();
        await using HeraldTestHarness harness = await StartAsync(runs, h => h.AddHandler<Fast, UserCreated>(o => o.Group = "workers"));
        await harness.Bus.PublishAsync(new UserCreated(1, "a@b.c", DateTimeOffset.UnixEpoch));
        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 1, TimeSpan.FromSeconds(30));

        await using (var connection = new NatsConnection(new NatsOpts { Url = server.Url }))
        {
            Assert.True(await new NatsJSContext(connection).DeleteConsumerAsync(Stream, "workers"));
        }

        // Made again (deliver policy new): an event published once it exists is handled.
        long deadline = Environment.TickCount64 + 30_000;
        long id = 2;
        while (!runs.Seen.Any(s => s.Id >= 2))
        {
            Assert.True(Environment.TickCount64 < deadline, "the deleted consumer was not made again");
            await harness.Bus.PublishAsync(new UserCreated(id++, "a@b.c", DateTimeOffset.UnixEpoch));
            await Task.Delay(200);
        }
    }

    /// <summary>An operator's limits on an existing stream stay (a start does not undo them), and a full stream is a clear refusal.</summary>
    [Fact]
    public async Task AFullStream_RefusesThePublish_WithItsErrorCode_AndTheOperatorsLimitsStay()
    {
        await using (var connection = new NatsConnection(new NatsOpts { Url = server.Url }))
        {
            await new NatsJSContext(connection).CreateStreamAsync(new NATS.Client.JetStream.Models.StreamConfig(Stream, [$"{_unique}.>"])
            {
                MaxMsgs = 1,
                Discard = NATS.Client.JetStream.Models.StreamConfigDiscard.New,
            });
        }

        var runs = new Runs();
        await using HeraldTestHarness harness = await StartAsync(runs, h => h.AddHandler<Fast, UserCreated>());
        await harness.Bus.PublishAsync(new UserCreated(1, "a@b.c", DateTimeOffset.UnixEpoch));
        NatsPublishException refused = await Assert.ThrowsAsync<NatsPublishException>(() => harness.Bus.PublishAsync(new UserCreated(2, "a@b.c", DateTimeOffset.UnixEpoch)).AsTask());
        Assert.Equal(10077, refused.ErrorCode);
        Assert.Contains($"the stream '{Stream}' is full", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MembersOfOneGroup_WithDifferentPatterns_AreRefusedAtStart()
    {
        NotSupportedException refused = await Assert.ThrowsAsync<NotSupportedException>(() => StartAsync(new Runs(), h =>
        {
            h.AddHandler<Fast, UserCreated>(o => { o.Name = "one"; o.Group = "shared"; });
            h.AddHandler<Any>("user.*", o => { o.Name = "two"; o.Group = "shared"; });
        }));
        Assert.Contains("'shared'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("user.*", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:4222", "Url", "not a nats://")]
    [InlineData("nats://admin:hunter2@bad host", "Url", "admin:***@")]
    [InlineData("nats://127.0.0.1", "Stream", "stream name")]
    public void BadOptions_AreRefused_NamingTheOption_WithoutSecrets(string url, string option, string expected)
    {
        var options = new NatsOptions { Url = url };
        if (option == "Stream")
        {
            options.Stream = "a.b";
        }

        ArgumentException refused = Assert.ThrowsAny<ArgumentException>(() => new EventBusOptions().UseNats(options));
        Assert.Contains(option, refused.Message, StringComparison.Ordinal);
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nats://u:pa?ss@h:4222", "nats://u:***@h:4222")]
    [InlineData("nats://u:p/a#s@h", "nats://u:***@h")]
    public void Passwords_WithUnencodedSeparators_AreMasked(string url, string shown) =>
        Assert.Equal(shown, Herald.Redacted.NatsUrl(url));

    [Fact]
    public void Tokens_InTheUrl_AreMaskedWhole() =>
        Assert.Equal("nats://***@127.0.0.1:4222", Herald.Redacted.NatsUrl("nats://s3cr3t@127.0.0.1:4222"));
}
