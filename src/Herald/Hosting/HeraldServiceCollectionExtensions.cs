using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald;

/// <summary>Registers Herald in a service collection.</summary>
public static class HeraldServiceCollectionExtensions
{
    /// <summary>
    /// Registers the bus (a singleton <see cref="EventBus"/>), the handlers and their pipeline, the
    /// <see cref="HandlerHost"/> as a hosted service, <see cref="DeadLetters"/>, the in-memory inbox and dead-letter
    /// store (unless others are registered), and the <c>herald</c> health check. Misconfiguration throws here,
    /// naming the handler and the problem. Call it once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adds handlers and middleware, sets options.</param>
    public static IServiceCollection AddHerald(this IServiceCollection services, Action<HeraldBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(d => d.ServiceType == typeof(HandlerCatalog)))
        {
            throw new InvalidOperationException("AddHerald was already called on these services; register every handler and option in one AddHerald call.");
        }

        var builder = new HeraldBuilder(services);
        configure(builder);
        HandlerCatalog catalog = builder.Build();
        EventBusOptions busOptions = builder.Bus;
        busOptions.Validate();

        services.AddSingleton(catalog);
        services.AddSingleton(builder.Host);
        services.AddSingleton(sp =>
        {
            busOptions.LoggerFactory ??= sp.GetService<ILoggerFactory>();
            busOptions.MeterFactory ??= sp.GetService<IMeterFactory>();
            return new EventBus(busOptions);
        });
        services.TryAddSingleton<IInboxStore>(_ => new InMemoryInboxStore());
        services.TryAddSingleton<IDeadLetterStore>(_ => new InMemoryDeadLetterStore());
        services.AddLogging(); // idempotent; the health-check service and the pipeline log through it
        services.AddSingleton(sp => new HandlerHost(
            sp.GetRequiredService<EventBus>(), sp, catalog, builder.Host, sp.GetRequiredService<ILoggerFactory>(), services));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<HandlerHost>());
        services.AddSingleton(sp => new DeadLetters(sp.GetRequiredService<IDeadLetterStore>(), sp.GetRequiredService<HandlerHost>(), sp.GetRequiredService<EventBus>()));
        services.AddHealthChecks().AddCheck<HeraldHealthCheck>("herald", tags: ["herald"]);
        services.TryAddSingleton(sp => new HeraldHealthCheck(sp.GetRequiredService<HandlerHost>(), sp.GetRequiredService<IDeadLetterStore>(), builder.Host));
        return services;
    }
}
