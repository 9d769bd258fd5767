using Herald.Benchmarks.Fanout;

namespace Herald.Benchmarks.Systems;

/// <summary>Herald in memory, pull: three subscriptions (capacity 1024, Wait), each read by its own loop.</summary>
public sealed class HeraldPullSystem : IFanoutSystem
{
    private EventBus? _bus;
    private Task[] _readers = [];

    public Task StartAsync(Probe probe)
    {
        _bus = new EventBus(new EventBusOptions { PublishTimeout = TimeSpan.FromMinutes(1) });
        _readers = new Task[Probe.Subscribers];
        for (int s = 0; s < Probe.Subscribers; s++)
        {
            int subscriber = s;
            Subscription<UserCreated> sub = _bus.Subscribe<UserCreated>(new SubscriptionOptions { Capacity = 1024, Overflow = Overflow.Wait });
            _readers[s] = Task.Run(async () =>
            {
                await foreach (EventContext<UserCreated> e in sub.ReadAllAsync())
                {
                    probe.Record(subscriber, e.Event);
                }
            });
        }

        return Task.CompletedTask;
    }

    public ValueTask PublishAsync(UserCreated e) => _bus!.PublishAsync(e);

    public async ValueTask DisposeAsync()
    {
        await _bus!.DisposeAsync();
        await Task.WhenAll(_readers);
    }
}
