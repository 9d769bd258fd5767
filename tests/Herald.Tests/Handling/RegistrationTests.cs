using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Handling;

public sealed class RegistrationTests
{
    public sealed class NoTopicHandler : IEventHandler<NoTopic>
    {
        public Task HandleAsync(EventContext<NoTopic> context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public sealed class NotAHandler
    {
    }

    public sealed class UserHandler(Probe probe) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            probe.Seen.Enqueue(context.Event);
            return Task.CompletedTask;
        }
    }

    /// <summary>One class, two event types: two consumers.</summary>
    public sealed class UserLifecycle(Probe probe) : IEventHandler<UserCreated>, IEventHandler<UserDeleted>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            probe.Seen.Enqueue(context.Event);
            return Task.CompletedTask;
        }

        public Task HandleAsync(EventContext<UserDeleted> context, CancellationToken cancellationToken)
        {
            probe.Seen.Enqueue(context.Event);
            return Task.CompletedTask;
        }
    }

    public sealed class Audit(Probe probe) : IEventHandler<object>
    {
        public Task HandleAsync(EventContext<object> context, CancellationToken cancellationToken)
        {
            probe.Seen.Enqueue(context.Topic);
            return Task.CompletedTask;
        }
    }

    /// <summary>Records the scoped dependency it got, to prove a scope per delivery.</summary>
    public sealed class ScopedHandler(ScopedThing thing, Probe probe) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            probe.Seen.Enqueue(thing);
            return Task.CompletedTask;
        }
    }

    public sealed class ScopedThing;

    [Fact]
    public void AddHerald_EventTypeWithoutTopic_FailsAtStartupNamingHandler()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddHerald(h => h.AddHandler<NoTopicHandler, NoTopic>()));
        Assert.Contains("'NoTopicHandler'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("has no topic", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, false, Overflow.Wait, "Concurrency is 0")]
    [InlineData(1, true, Overflow.DropOldest, "OrderedByKey is set with Overflow.DropOldest")]
    public void AddHerald_BadOptions_FailAtStartupNamingHandlerAndProblem(int concurrency, bool ordered, Overflow overflow, string problem)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddHerald(h =>
            h.AddHandler<UserHandler, UserCreated>(o => { o.Concurrency = concurrency; o.OrderedByKey = ordered; o.Overflow = overflow; })));
        Assert.Contains("'UserHandler'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceProvider_DisposedSynchronously_StopsHostAndBus()
    {
        var probe = new Probe();
        ServiceProvider provider = new ServiceCollection().AddSingleton(probe).AddHerald(h => h.AddHandler<UserHandler, UserCreated>()).BuildServiceProvider();
        EventBus bus = provider.GetRequiredService<EventBus>();
        HandlerHost host = provider.GetRequiredService<HandlerHost>();
        await host.StartAsync(CancellationToken.None);
        await host.StartedAsync(CancellationToken.None);

        provider.Dispose(); // a plain `using` on the container must work

        Assert.NotNull(host.LastShutdown);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await bus.PublishAsync(TestEvents.User(1)));
    }

    [Fact]
    public void AddHerald_CalledTwice_Fails()
    {
        var services = new ServiceCollection().AddHerald(h => h.AddHandler<UserHandler, UserCreated>());
        var ex = Assert.Throws<InvalidOperationException>(() => services.AddHerald(h => h.AddHandler<UserLifecycle>()));
        Assert.Contains("AddHerald was already called", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddHerald_TypeWithoutHandlerInterface_Fails()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddHerald(h => h.AddHandler<NotAHandler>()));
        Assert.Contains("'NotAHandler' implements no IEventHandler", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddHerald_TwoHandlersWithOneName_Fails()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddHerald(h => h
            .AddHandler<UserHandler, UserCreated>()
            .AddHandler<UserLifecycle, UserCreated>(o => o.Name = "UserHandler")));
        Assert.Contains("Two handlers are named 'UserHandler'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddHerald_GroupMembersDisagreeOnOrdering_Fails()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddHerald(h => h
            .AddHandler<UserHandler, UserCreated>(o => o.Group = "crm")
            .AddHandler<UserLifecycle, UserCreated>(o => { o.Group = "crm"; o.OrderedByKey = true; })));
        Assert.Contains("share group 'crm'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddHandler_ClassWithTwoEventTypes_HandlesBoth()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(h => h.AddHandler<UserLifecycle>(), s => s.AddSingleton(probe));

        await harness.Bus.PublishAsync(TestEvents.User(1));
        await harness.Bus.PublishAsync(new UserDeleted(1));
        await harness.Consumed<UserCreated>();
        await harness.Consumed<UserDeleted>();

        Assert.Equal(2, probe.Seen.Count);
        Assert.Equal(["UserLifecycle/user.created", "UserLifecycle/user.deleted"], harness.Host.Consumers.Select(c => c.Handler.Name).Order());
    }

    [Fact]
    public async Task PatternHandler_ReceivesUntypedEventsOfEveryMatchingTopic()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(h => h.AddHandler<Audit>("user.*"), s => s.AddSingleton(probe));

        await harness.Bus.PublishAsync(TestEvents.User(1));
        await harness.Bus.PublishAsync(new UserDeleted(1));
        await harness.Bus.PublishAsync(new OrderPaid(1, 1m));
        await harness.DeliveriesAsync(d => d.Handler == "Audit", 2);

        Assert.Equal(["user.created", "user.deleted"], probe.Seen.Cast<string>().Order());
    }

    [Fact]
    public async Task Handlers_AreResolvedInAScopePerDelivery()
    {
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<ScopedHandler, UserCreated>(),
            s => s.AddSingleton(probe).AddScoped<ScopedThing>());

        await harness.Bus.PublishAsync(TestEvents.User(1));
        await harness.Bus.PublishAsync(TestEvents.User(2));
        await harness.DeliveriesAsync(_ => true, 2);

        Assert.Equal(2, probe.Seen.Distinct().Count());
    }

    public sealed class SingletonsOnly(Probe probe, Microsoft.Extensions.Logging.ILogger<SingletonsOnly> logger) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            _ = logger;
            probe.Seen.Enqueue(context.Event.Email);
            return Task.CompletedTask;
        }
    }

    public sealed class ViaTransient(TransientThing thing) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) => Task.FromResult(thing);
    }

    public sealed class TransientThing(ScopedThing scoped)
    {
        public ScopedThing Scoped { get; } = scoped;
    }

    public sealed class AsksForProvider(IServiceProvider services) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) => Task.FromResult(services);
    }

    public sealed class DisposableHandler(Probe probe) : IEventHandler<UserCreated>, IDisposable
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) => Task.FromResult(probe);

        public void Dispose()
        {
        }
    }

    /// <summary>A scoped service that records its disposal.</summary>
    public sealed class ScopedResource(Probe probe) : IDisposable
    {
        public void Dispose()
        {
            probe.Seen.Enqueue(this);
            probe.Attempt();
        }
    }

    /// <summary>A user step that takes a scoped service from the delivery's scope.</summary>
    public sealed class UsesScopedResource(Probe probe) : IDeliveryMiddleware
    {
        public ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next)
        {
            probe.AttemptTimes.Enqueue(DateTimeOffset.UnixEpoch);
            _ = context.Services.GetRequiredService<ScopedResource>();
            return next(context);
        }
    }

    [Fact]
    public void ScopeFree_OnlyHandlersWhoseConstructorTakesSingletons()
    {
        var services = new ServiceCollection().AddLogging().AddSingleton(new Probe()).AddScoped<ScopedThing>().AddTransient<TransientThing>();
        services.AddTransient<SingletonsOnly>().AddTransient<ScopedHandler>().AddTransient<ViaTransient>()
            .AddTransient<AsksForProvider>().AddTransient<DisposableHandler>();

        Assert.True(ScopeFreeHandlers.CanResolveFromRoot(typeof(SingletonsOnly), services), "singletons and ILogger<T> (an open-generic singleton)");
        Assert.False(ScopeFreeHandlers.CanResolveFromRoot(typeof(ScopedHandler), services), "a scoped dependency");
        Assert.False(ScopeFreeHandlers.CanResolveFromRoot(typeof(ViaTransient), services), "a scoped dependency one transient down");
        Assert.False(ScopeFreeHandlers.CanResolveFromRoot(typeof(AsksForProvider), services), "IServiceProvider means the delivery's scope");
        Assert.False(ScopeFreeHandlers.CanResolveFromRoot(typeof(DisposableHandler), services), "the root would keep a disposable transient");
        Assert.False(ScopeFreeHandlers.CanResolveFromRoot(typeof(NoTopicHandler), services), "not registered");

        services.AddTransient<SingletonsOnly>(sp => new SingletonsOnly(sp.GetRequiredService<Probe>(), null!));
        Assert.False(ScopeFreeHandlers.CanResolveFromRoot(typeof(SingletonsOnly), services), "a factory: what it asks for is unknown (the last registration counts)");
        services.AddScoped<Probe>();
        Assert.False(ScopeFreeHandlers.CanResolveFromRoot(typeof(ViaTransient), services));
    }

    /// <summary>A handler that shows which singleton it was given.</summary>
    public sealed class HoldsProbe(Probe probe) : IEventHandler<UserCreated>
    {
        public Probe Probe => probe;

        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>A plain transient with no dependencies.</summary>
    public sealed class FreeThing;

    /// <summary>A handler that takes a (scope-free) transient.</summary>
    public sealed class ViaFreeTransient(FreeThing thing) : IEventHandler<UserCreated>
    {
        public FreeThing Thing => thing;

        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Fact]
    public void ScopeFree_Activator_MakesANewHandlerPerCall_WithTheRootsSingletons()
    {
        var probe = new Probe();
        var services = new ServiceCollection().AddSingleton(probe).AddScoped<ScopedThing>().AddTransient<FreeThing>();
        services.AddTransient<HoldsProbe>().AddTransient<ViaFreeTransient>().AddTransient<ScopedHandler>();
        using ServiceProvider root = services.BuildServiceProvider();

        // Singletons only: a constructor call with the singleton resolved once.
        Func<object> make = ScopeFreeHandlers.ActivatorFor(typeof(HoldsProbe), services, root)!;
        var first = (HoldsProbe)make();
        var second = (HoldsProbe)make();
        Assert.NotSame(first, second);
        Assert.Same(probe, first.Probe);
        Assert.Same(probe, second.Probe);

        // A transient dependency: from the root, a new one each time, as the container makes it.
        Func<object> viaRoot = ScopeFreeHandlers.ActivatorFor(typeof(ViaFreeTransient), services, root)!;
        Assert.NotSame(((ViaFreeTransient)viaRoot()).Thing, ((ViaFreeTransient)viaRoot()).Thing);

        // A scoped dependency: no activator, the delivery's scope resolves it.
        Assert.Null(ScopeFreeHandlers.ActivatorFor(typeof(ScopedHandler), services, root));
    }

    [Fact]
    public async Task ScopeFreeHandler_StepsStillGetAScopePerDelivery_DisposedWhenItEnds()
    {
        var probe = new Probe { Expected = 2 };
        await using var harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.AddHandler<SingletonsOnly, UserCreated>();
                h.Use<UsesScopedResource>();
            },
            s => s.AddSingleton(probe).AddScoped<ScopedResource>());

        await harness.Bus.PublishAsync(TestEvents.User(1));
        await harness.Bus.PublishAsync(TestEvents.User(2));
        await harness.DeliveriesAsync(_ => true, 2);
        await probe.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30)); // both scopes disposed (just after their deliveries)

        ScopedResource[] disposed = [.. probe.Seen.OfType<ScopedResource>()];
        Assert.Equal(2, disposed.Length); // one scope per delivery, each disposed when its delivery ended
        Assert.NotSame(disposed[0], disposed[1]);
        Assert.Equal(2, probe.Seen.OfType<string>().Count());
    }
}
