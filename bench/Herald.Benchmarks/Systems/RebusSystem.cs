using Herald.Benchmarks.Fanout;
using Rebus.Activation;
using Rebus.Bus;
using Rebus.Config;
using Rebus.Transport.InMem;

namespace Herald.Benchmarks.Systems;

/// <summary>Rebus in-memory transport: three subscriber buses (one queue each) and a one-way publisher.</summary>
public sealed class RebusSystem : IFanoutSystem
{
    private readonly List<BuiltinHandlerActivator> _activators = [];
    private IBus? _publisher;

    public async Task StartAsync(Probe probe)
    {
        var network = new InMemNetwork();
        for (int s = 0; s < Probe.Subscribers; s++)
        {
            int subscriber = s;
            var activator = new BuiltinHandlerActivator();
            activator.Handle<UserCreated>(message =>
            {
                probe.Record(subscriber, message);
                return Task.CompletedTask;
            });
            IBus bus = Configure.With(activator)
                .Logging(l => l.None())
                .Transport(t => t.UseInMemoryTransport(network, $"subscriber-{s}"))
                .Start();
            await bus.Subscribe<UserCreated>(); // the in-memory network keeps the subscriptions itself
            _activators.Add(activator);
        }

        var publisher = new BuiltinHandlerActivator();
        _publisher = Configure.With(publisher)
            .Logging(l => l.None())
            .Transport(t => t.UseInMemoryTransportAsOneWayClient(network))
            .Start();
        _activators.Add(publisher);
    }

    public ValueTask PublishAsync(UserCreated e) => new(_publisher!.Publish(e));

    public ValueTask DisposeAsync()
    {
        foreach (BuiltinHandlerActivator activator in _activators)
        {
            activator.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
