using Herald.Tests.Support;

namespace Herald.Tests.Bus;

public sealed class PublishTests
{
    [Fact]
    public async Task PublishAsync_TypedAndPatternSubscriptions_EachGetTheEvent()
    {
        await using var bus = new EventBus();
        await using var typed = bus.Subscribe<UserCreated>();
        await using var pattern = bus.Subscribe("user.*");
        await using var other = bus.Subscribe<OrderPaid>();

        UserCreated user = TestEvents.User(42);
        await bus.PublishAsync(user);

        Assert.Equal(user, Assert.Single(Drain.Queued(typed)).Event);
        EventContext<object> untyped = Assert.Single(Drain.Queued(pattern));
        Assert.Same(user, untyped.Event);
        Assert.Equal("user.created", untyped.Topic);
        Assert.Empty(Drain.Queued(other));
        Assert.Equal(1, bus.Stats.Published);
    }

    [Fact]
    public async Task PublishAsync_EventTravelsUnserialized()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe<UserCreated>();
        UserCreated user = TestEvents.User(1);
        await bus.PublishAsync(user);
        Assert.Same(user, Drain.Queued(sub)[0].Event);
    }

    [Fact]
    public async Task PublishAsync_Options_ArriveInEnvelope()
    {
        var clock = new FixedTimeProvider(TestEvents.Now);
        await using var bus = new EventBus(new EventBusOptions { Name = "registration", TimeProvider = clock });
        await using var sub = bus.Subscribe<Numbered>();

        await bus.PublishAsync(new Numbered(1, 1), new PublishOptions
        {
            Key = "user-42",
            CorrelationId = "flow-1",
            CausationId = "cause-1",
            Headers = new Dictionary<string, string> { ["tenant"] = "acme" },
        });

        EventContext<Numbered> e = Assert.Single(Drain.Queued(sub));
        Assert.Equal("user-42", e.Key);
        Assert.Equal("flow-1", e.CorrelationId);
        Assert.Equal("cause-1", e.Envelope.CausationId);
        Assert.Equal("acme", e.Headers["tenant"]);
        Assert.Equal(TestEvents.Now, e.Time);
        Assert.Equal("urn:herald:registration", e.Envelope.Source);
        Assert.Equal("urn:herald:test.numbered:v1", e.Envelope.DataSchema);
        Assert.Equal(1, e.Attempt);
        Assert.Equal(7, Guid.Parse(e.Id).Version);
    }

    [Fact]
    public async Task PublishAsync_NullEvent_ThrowsNamingType()
    {
        await using var bus = new EventBus();
        ArgumentNullException ex = await Assert.ThrowsAsync<ArgumentNullException>(async () => await bus.PublishAsync<UserCreated>(null!));
        Assert.Contains("UserCreated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_TypeWithoutTopic_ThrowsNamingType()
    {
        await using var bus = new EventBus();
        InvalidTopicException ex = await Assert.ThrowsAsync<InvalidTopicException>(async () => await bus.PublishAsync(new NoTopic(1)));
        Assert.Contains(nameof(NoTopic), ex.Message, StringComparison.Ordinal);
        Assert.Contains("[Topic(", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_TypeWithInvalidTopic_ThrowsNamingTopic()
    {
        await using var bus = new EventBus();
        InvalidTopicException ex = await Assert.ThrowsAsync<InvalidTopicException>(async () => await bus.PublishAsync(new WildcardTopic(1)));
        Assert.Contains("'user.*'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("wildcard", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subscribe_TypeWithoutTopic_ThrowsNamingType()
    {
        await using var bus = new EventBus();
        InvalidTopicException ex = Assert.Throws<InvalidTopicException>(() => bus.Subscribe<NoTopic>());
        Assert.Contains(nameof(NoTopic), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subscribe_BadPattern_ThrowsNamingPattern()
    {
        await using var bus = new EventBus();
        InvalidTopicException ex = Assert.Throws<InvalidTopicException>(() => bus.Subscribe("Order.*"));
        Assert.Contains("'Order.*'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Tenant", "lowercase ASCII letters and digits")]
    [InlineData("x-tenant", "lowercase ASCII letters and digits")]
    [InlineData("subject", "reserved")]
    public async Task PublishAsync_BadHeaderName_ThrowsNamingHeader(string name, string problem)
    {
        await using var bus = new EventBus();
        ArgumentException ex = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await bus.PublishAsync(TestEvents.User(1), new PublishOptions { Headers = new Dictionary<string, string> { [name] = "v" } }));
        Assert.Contains($"'{name}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_AsBaseType_UsesRuntimeTypeTopic()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe<OrderPaid>();
        object evt = new OrderPaid(7, 10m);
        await bus.PublishAsync(evt);
        Assert.Equal(7, Assert.Single(Drain.Queued(sub)).Event.OrderId);
    }

    [Fact]
    public async Task PublishAsync_NoSubscriber_CountsUnrouted()
    {
        await using var bus = new EventBus();
        await bus.PublishAsync(TestEvents.User(1));
        Assert.Equal(1, bus.Stats.Unrouted);
        Assert.Equal(1, bus.Stats.Published);
    }

    [Fact]
    public async Task PublishAsync_Envelope_KeepsItsIdentity()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe("order.#");
        var envelope = new Envelope("order.shipped", "parcel-1", TestEvents.Now) { Id = "fixed-id", Subject = "order-9" };
        await bus.PublishAsync(envelope);
        EventContext<object> e = Assert.Single(Drain.Queued(sub));
        Assert.Same(envelope, e.Envelope);
        Assert.Equal("fixed-id", e.Id);
    }

    [Fact]
    public async Task TypedSubscription_EnvelopeWithOtherPayload_IsSkippedAndCounted()
    {
        await using var bus = new EventBus();
        await using var sub = bus.Subscribe<UserCreated>();
        await bus.PublishAsync(new Envelope("user.created", "not a UserCreated", TestEvents.Now));
        await bus.PublishAsync(TestEvents.User(2));

        EventContext<UserCreated> e = Assert.Single(Drain.Queued(sub));
        Assert.Equal(2, e.Event.Id);
        Assert.Equal(1, sub.Stats.DroppedWrongType);
        Assert.Equal(1, sub.Stats.DroppedFor(DropReason.WrongType));
    }

    [Fact]
    public async Task TwoBuses_ShareNothing()
    {
        await using var a = new EventBus(new EventBusOptions { Name = "a" });
        await using var b = new EventBus(new EventBusOptions { Name = "b" });
        await using var subA = a.Subscribe<UserCreated>();
        await using var subB = b.Subscribe<UserCreated>();
        a.Gates.Block("user.#");

        await b.PublishAsync(TestEvents.User(1));

        Assert.Empty(Drain.Queued(subA));
        Assert.Single(Drain.Queued(subB));
        Assert.Equal(0, a.Stats.Published);
        Assert.Equal(1, b.Stats.Published);
    }

    [Fact]
    public void Options_Invalid_AreRefusedNamingTheSetting()
    {
        Assert.Contains("PublishTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => new EventBus(new EventBusOptions { PublishTimeout = TimeSpan.Zero })).Message, StringComparison.Ordinal);
        Assert.Contains("PublishTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => new EventBus(new EventBusOptions { PublishTimeout = Timeout.InfiniteTimeSpan })).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1, "Capacity")]
    [InlineData(10, 0, "Lanes")]
    public async Task Subscribe_InvalidOptions_AreRefusedNamingTheSetting(int capacity, int lanes, string setting)
    {
        await using var bus = new EventBus();
        ArgumentOutOfRangeException ex = Assert.Throws<ArgumentOutOfRangeException>(() => bus.Subscribe<UserCreated>(new SubscriptionOptions { Capacity = capacity, Lanes = lanes }));
        Assert.Contains(setting, ex.Message, StringComparison.Ordinal);
    }
}
