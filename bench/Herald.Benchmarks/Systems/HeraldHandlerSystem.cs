using Herald.Benchmarks.Fanout;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Benchmarks.Systems;

/// <summary>Herald with handler subscriptions: three handlers run by the host through the default pipeline.</summary>
public sealed class HeraldHandlerSystem : IFanoutSystem
{
    private ServiceProvider? _services;
    private EventBus? _bus;
    private HandlerHost? _host;

    public async Task StartAsync(Probe probe)
    {
        var services = new ServiceCollection();
        services.AddSingleton(probe);
        if (int.TryParse(Environment.GetEnvironmentVariable("HERALD_BENCH_INBOX"), out int inbox))
        {
            services.AddSingleton<IInboxStore>(new InMemoryInboxStore(inbox)); // experiments with the inbox window
        }

        services.AddHerald(h =>
        {
            h.Bus.PublishTimeout = TimeSpan.FromMinutes(1);
            h.AddHandler<EmailHandler, UserCreated>();
            h.AddHandler<PointsHandler, UserCreated>();
            h.AddHandler<RiskHandler, UserCreated>();
            foreach (string step in (Environment.GetEnvironmentVariable("HERALD_BENCH_WITHOUT") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                h.Pipeline.Remove(h.Pipeline.Single(p => p.Name == step));
            }
        });
        _services = services.BuildServiceProvider();
        _bus = _services.GetRequiredService<EventBus>();
        _host = _services.GetRequiredService<HandlerHost>();
        await _host.StartAsync(CancellationToken.None);
        await _host.StartedAsync(CancellationToken.None);
    }

    public ValueTask PublishAsync(UserCreated e) => _bus!.PublishAsync(e);

    public async ValueTask DisposeAsync()
    {
        await _host!.StopAsync(CancellationToken.None);
        await _services!.DisposeAsync();
    }

    public sealed class EmailHandler(Probe probe) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            probe.Record(0, context.Event);
            return Task.CompletedTask;
        }
    }

    public sealed class PointsHandler(Probe probe) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            probe.Record(1, context.Event);
            return Task.CompletedTask;
        }
    }

    public sealed class RiskHandler(Probe probe) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            probe.Record(2, context.Event);
            return Task.CompletedTask;
        }
    }
}
