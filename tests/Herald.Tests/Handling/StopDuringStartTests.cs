using Herald.InMemory;
using Herald.Tests.Support;
using Herald.Transport;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Handling;

/// <summary>A host stopped while its start still declares queues (a slow broker) ends what the start makes afterwards.</summary>
public sealed class StopDuringStartTests
{
    /// <summary>The in-memory transport whose subscriptions wait for a gate, as a broker's queue declarations can.</summary>
    private sealed class SlowToSubscribe(TransportContext context, TaskCompletionSource gate) : ITransport
    {
        private readonly InMemoryTransport _inner = new(context);

        public ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken) => _inner.PublishAsync(envelope, cancellationToken);

        public async ValueTask<IConsumer> SubscribeAsync(ConsumerSpec spec, CancellationToken cancellationToken)
        {
            await gate.Task.WaitAsync(cancellationToken);
            return await _inner.SubscribeAsync(spec, cancellationToken);
        }

        public ValueTask DisposeAsync() => _inner.DisposeAsync();
    }

    [Fact]
    public async Task Stop_WhileStartIsSubscribing_LeavesNoConsumerRunning()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new Probe());
        services.AddHerald(h =>
        {
            h.Bus.TransportFactory = context => new SlowToSubscribe(context, gate);
            h.AddHandler<HostingTests.Mail, UserCreated>();
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        HandlerHost host = provider.GetRequiredService<HandlerHost>();
        EventBus bus = provider.GetRequiredService<EventBus>();

        Task starting = host.StartAsync(CancellationToken.None);
        await host.StopAsync(CancellationToken.None);
        gate.SetResult();
        await starting.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, bus.Stats.Subscriptions);
        Assert.Empty(host.Consumers);
    }
}
