using Herald.Benchmarks.Fanout;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Benchmarks.Systems;

/// <summary>MassTransit 8.5 in-memory transport: three consumers, each on its own receive endpoint; publish fans out.</summary>
public sealed class MassTransitSystem : IFanoutSystem
{
    private ServiceProvider? _services;
    private IBusControl? _bus;

    public async Task StartAsync(Probe probe)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(probe);
        services.AddMassTransit(x =>
        {
            x.AddConsumer<EmailConsumer>();
            x.AddConsumer<PointsConsumer>();
            x.AddConsumer<RiskConsumer>();
            x.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
        });
        _services = services.BuildServiceProvider();
        _bus = _services.GetRequiredService<IBusControl>();
        await _bus.StartAsync();
    }

    public ValueTask PublishAsync(UserCreated e) => new(_bus!.Publish(e));

    public async ValueTask DisposeAsync()
    {
        await _bus!.StopAsync();
        await _services!.DisposeAsync();
    }

    public sealed class EmailConsumer(Probe probe) : IConsumer<UserCreated>
    {
        public Task Consume(ConsumeContext<UserCreated> context)
        {
            probe.Record(0, context.Message);
            return Task.CompletedTask;
        }
    }

    public sealed class PointsConsumer(Probe probe) : IConsumer<UserCreated>
    {
        public Task Consume(ConsumeContext<UserCreated> context)
        {
            probe.Record(1, context.Message);
            return Task.CompletedTask;
        }
    }

    public sealed class RiskConsumer(Probe probe) : IConsumer<UserCreated>
    {
        public Task Consume(ConsumeContext<UserCreated> context)
        {
            probe.Record(2, context.Message);
            return Task.CompletedTask;
        }
    }
}
