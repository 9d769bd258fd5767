using System.Text;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Handling;

public sealed class ConfigurationTests
{
    /// <summary>Holds every event until the test lets it go, and says when the first one is in the handler.</summary>
    public sealed class Held(Probe probe, HeldGate gate) : IEventHandler<UserCreated>
    {
        public async Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            gate.Entered.TrySetResult();
            await gate.Open.Task.WaitAsync(cancellationToken);
            probe.Seen.Enqueue(context.Event);
        }
    }

    public sealed class HeldGate
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [Fact]
    public async Task BindConfiguration_AppSettingsJson_OverridesWhatCodeSet()
    {
        IConfiguration herald = Json("""
            {
              "Herald": {
                "Bus": { "Name": "orders", "Source": "urn:orders", "PublishTimeout": "00:00:02" },
                "Host": { "ShutdownTimeout": "00:00:07", "CancellationGrace": "00:00:01", "QueueHighWaterMark": 0.5, "MaxOldestEventAge": "00:01:00" },
                "Handlers": {
                  "UserHandler": {
                    "Concurrency": 3, "Capacity": 16, "Timeout": "00:00:01.500", "Overflow": "reject", "Idempotent": false, "Group": "crm",
                    "Retry": { "MaxAttempts": 4, "InitialDelay": "00:00:00.050", "MaxDelay": "00:00:02", "Factor": 3, "Jitter": 0 }
                  }
                }
              }
            }
            """).GetSection("Herald");
        RetryPolicy code = Retry.Immediate(2).Handle<TimeoutException>();
        var probe = new Probe();
        await using ServiceProvider provider = new ServiceCollection()
            .AddSingleton(probe)
            .AddHerald(h => h
                .BindConfiguration(herald)
                .AddHandler<RegistrationTests.UserHandler, UserCreated>(o => { o.Concurrency = 2; o.Retry = code; }))
            .BuildServiceProvider();

        EventBus bus = provider.GetRequiredService<EventBus>();
        Assert.Equal("orders", bus.Name);
        HeraldHostOptions host = provider.GetRequiredService<HeraldHostOptions>();
        Assert.Equal(TimeSpan.FromSeconds(7), host.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), host.CancellationGrace);
        Assert.Equal(0.5, host.QueueHighWaterMark);
        Assert.Equal(TimeSpan.FromMinutes(1), host.MaxOldestEventAge);

        HandlerOptions options = Assert.Single(provider.GetRequiredService<HandlerCatalog>().Handlers).Descriptor.Options;
        Assert.Equal(3, options.Concurrency); // the settings win over the code's 2
        Assert.Equal(16, options.Capacity);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.Timeout);
        Assert.Equal(Overflow.Reject, options.Overflow);
        Assert.False(options.Idempotent);
        Assert.Equal("crm", options.Group);
        Assert.Equal(4, options.Retry.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.Retry.InitialDelay);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Retry.MaxDelay);
        Assert.Equal(3, options.Retry.Factor);
        Assert.Equal(0, options.Retry.Jitter);
        Assert.Same(code.Retryable, options.Retry.Retryable); // which exceptions are retried stays the code's choice

        await using Subscription<UserCreated> sub = bus.Subscribe<UserCreated>();
        await bus.PublishAsync(TestEvents.User(1));
        Assert.True(sub.TryRead(out EventContext<UserCreated> published));
        Assert.Equal("urn:orders", published.Envelope.Source);
    }

    [Fact]
    public async Task BindConfiguration_RetrySettings_DecideHowOftenAFailingHandlerIsTried()
    {
        var probe = new Probe { FailuresLeft = 100 };
        IConfiguration herald = Settings(("Handlers:Flaky:Retry:MaxAttempts", "2"));
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.BindConfiguration(herald).AddHandler<RetryAndDeadLetterTests.Flaky, UserCreated>(o => o.Retry = Retry.Immediate(5)),
            s => s.AddSingleton(probe).AddSingleton(TimeProvider.System));

        await harness.Bus.PublishAsync(TestEvents.User(3));
        DeadLetter letter = await harness.DeadLettered<UserCreated>();

        Assert.Equal("attempts-exhausted", letter.Reason);
        Assert.Equal(2, letter.Attempts);
        Assert.Equal(2, Volatile.Read(ref probe.Attempts));
    }

    [Fact]
    public async Task BindConfiguration_CapacityAndOverflowSettings_RejectWhenTheQueueIsFull()
    {
        var probe = new Probe();
        var gate = new HeldGate();
        IConfiguration herald = Settings(("Handlers:Held:Capacity", "1"), ("Handlers:Held:Overflow", "Reject"));
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.BindConfiguration(herald).AddHandler<Held, UserCreated>(),
            s => s.AddSingleton(probe).AddSingleton(gate));

        try
        {
            await harness.Bus.PublishAsync(TestEvents.User(1));
            await gate.Entered.Task; // the first event is in the handler, so the queue is empty
            await harness.Bus.PublishAsync(TestEvents.User(2)); // fills the queue of one
            var rejected = await Assert.ThrowsAsync<PublishRejectedException>(async () => await harness.Bus.PublishAsync(TestEvents.User(3)));
            Assert.Equal("Held", rejected.Subscription);
            Assert.Contains("is full (1 queued)", rejected.Message, StringComparison.Ordinal);
        }
        finally
        {
            gate.Open.TrySetResult(); // also when an assertion failed, so the harness stops at once
        }

        await harness.Consumed<UserCreated>(e => e.Event.Id == 2);
        Assert.Equal([1L, 2L], probe.Seen.Cast<UserCreated>().Select(u => u.Id).Order());
    }

    [Theory]
    [InlineData("Host:ShutdownTimout", "00:00:10", "unknown key 'Herald:Host:ShutdownTimout'. Known here: ShutdownTimeout, CancellationGrace")]
    [InlineData("Host:ShutdownTimeout", "thirty", "'Herald:Host:ShutdownTimeout' is 'thirty'; expected a time span")]
    [InlineData("Host:QueueHighWaterMark", "2", "QueueHighWaterMark is 2; it is a fraction of capacity")]
    [InlineData("Bus:PausedGateCapacity", "many", "'Herald:Bus:PausedGateCapacity' is 'many'; expected a whole number")]
    [InlineData("Bus", "fast", "'Herald:Bus' is 'fast'; expected a section")]
    [InlineData("Transport:Kind", "rabbit", "unknown key 'Herald:Transport'. Known here: Bus, Host, Handlers")]
    [InlineData("Handlers:UserHandlr:Concurrency", "2", "configure handler 'UserHandlr' (Herald:Handlers:UserHandlr), but no handler has that name. Registered: UserHandler")]
    [InlineData("Handlers:UserHandler:Name", "Mailer", "unknown key 'Herald:Handlers:UserHandler:Name'")]
    [InlineData("Handlers:UserHandler:Concurrency", "0", "Handler 'UserHandler' is misconfigured: Concurrency is 0")]
    [InlineData("Handlers:UserHandler:Overflow", "Sometimes", "'Herald:Handlers:UserHandler:Overflow' is 'Sometimes'; expected one of Wait, DropOldest, DropNewest, Reject")]
    [InlineData("Handlers:UserHandler:Overflow", "7", "'Herald:Handlers:UserHandler:Overflow' is '7'; expected one of")]
    [InlineData("Handlers:UserHandler:Idempotent", "yes", "'Herald:Handlers:UserHandler:Idempotent' is 'yes'; expected true or false")]
    [InlineData("Handlers:UserHandler:Retry:MaxAttempts", "0", "'Herald:Handlers:UserHandler:Retry' makes no retry policy: A retry policy needs at least one attempt")]
    [InlineData("Handlers:UserHandler:Retry:Attempts", "3", "unknown key 'Herald:Handlers:UserHandler:Retry:Attempts'. Known here: MaxAttempts")]
    [InlineData("Handlers:UserHandler:Retry", "3", "'Herald:Handlers:UserHandler:Retry' is '3'; expected a section")]
    public void BindConfiguration_BadSetting_FailsAtAddHeraldNamingTheKey(string key, string value, string expected)
    {
        IConfiguration herald = Settings((key, value));
        var ex = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddHerald(h => h
            .BindConfiguration(herald)
            .AddHandler<RegistrationTests.UserHandler, UserCreated>()));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BindConfiguration_EmptySection_ChangesNothing()
    {
        IConfiguration herald = Settings();
        ServiceProvider provider = new ServiceCollection()
            .AddHerald(h => h.BindConfiguration(herald).AddHandler<RegistrationTests.UserHandler, UserCreated>(o => o.Concurrency = 2))
            .BuildServiceProvider();

        Assert.Equal(2, Assert.Single(provider.GetRequiredService<HandlerCatalog>().Handlers).Descriptor.Options.Concurrency);
        Assert.Equal(TimeSpan.FromSeconds(30), provider.GetRequiredService<HeraldHostOptions>().ShutdownTimeout);
    }

    private static IConfiguration Json(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();

    private static IConfiguration Settings(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>("Herald:" + v.Key, v.Value)))
            .Build()
            .GetSection("Herald");
}
