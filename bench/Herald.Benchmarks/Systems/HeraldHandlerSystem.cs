using Herald.Benchmarks.Fanout;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Benchmarks.Systems;

/// <summary>How the handlers' application is built: a bare service collection, or a default Generic Host as users run it.</summary>
public enum HostSetup
{
    /// <summary>A <see cref="ServiceCollection"/> with no logging provider.</summary>
    Bare,

    /// <summary><c>Host.CreateApplicationBuilder()</c> with its default logging (console, debug, event source; information and up).</summary>
    DefaultHost,

    /// <summary><c>Host.CreateApplicationBuilder()</c> with the console alone at warning and up.</summary>
    HostConsoleWarning,
}

/// <summary>Herald with handler subscriptions: three handlers run by the host through the default pipeline.</summary>
public sealed class HeraldHandlerSystem(HostSetup setup = HostSetup.Bare) : IFanoutSystem
{
    private ServiceProvider? _services;
    private IHost? _app;
    private EventBus? _bus;
    private HandlerHost? _host;

    public async Task StartAsync(Probe probe)
    {
        if (setup != HostSetup.Bare)
        {
            HostApplicationBuilder builder = Host.CreateApplicationBuilder();
            if (setup == HostSetup.HostConsoleWarning)
            {
                ConsoleWarning(builder);
            }

            builder.Services.AddSingleton(probe);
            builder.Services.AddHerald(h =>
            {
                h.Bus.PublishTimeout = TimeSpan.FromMinutes(1);
                h.AddHandler<EmailHandler, UserCreated>();
                h.AddHandler<PointsHandler, UserCreated>();
                h.AddHandler<RiskHandler, UserCreated>();
            });
            _app = builder.Build();
            await _app.StartAsync();
            _bus = _app.Services.GetRequiredService<EventBus>();
            return;
        }

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

    /// <summary>The console alone, at warning and up: the logging the Wolverine row runs with too.</summary>
    public static void ConsoleWarning(HostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            _app.Dispose();
            return;
        }

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
