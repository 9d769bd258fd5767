using Herald.Benchmarks.Fanout;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wolverine;

namespace Herald.Benchmarks.Systems;

/// <summary>Wolverine local queues: three handlers for one message, separated so each has its own local queue.</summary>
public sealed class WolverineSystem : IFanoutSystem
{
    private IHost? _host;
    private IMessageBus? _bus;

    public async Task StartAsync(Probe probe)
    {
        // The same host as the herald-handlers-host-warn row: a Generic Host, the console alone at warning.
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        HeraldHandlerSystem.ConsoleWarning(builder);
        builder.Services.AddSingleton(probe);
        builder.UseWolverine(opts =>
        {
            opts.MultipleHandlerBehavior = MultipleHandlerBehavior.Separated;
            opts.Discovery.DisableConventionalDiscovery()
                .IncludeType<EmailWolverineHandler>()
                .IncludeType<PointsWolverineHandler>()
                .IncludeType<RiskWolverineHandler>();
        });
        _host = builder.Build();
        await _host.StartAsync();
        _bus = _host.Services.GetRequiredService<IMessageBus>();
    }

    public ValueTask PublishAsync(UserCreated e) => _bus!.PublishAsync(e);

    public async ValueTask DisposeAsync()
    {
        await _host!.StopAsync();
        _host.Dispose();
    }
}

public class EmailWolverineHandler
{
    public static void Handle(UserCreated message, Probe probe) => probe.Record(0, message);
}

public class PointsWolverineHandler
{
    public static void Handle(UserCreated message, Probe probe) => probe.Record(1, message);
}

public class RiskWolverineHandler
{
    public static void Handle(UserCreated message, Probe probe) => probe.Record(2, message);
}
