using Herald.Dashboard;
using Herald.Dashboard.Systems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Herald;

/// <summary>Mounts Herald's dashboard in an ASP.NET Core application.</summary>
public static class HeraldDashboardExtensions
{
    /// <summary>
    /// Maps the dashboard (a page and its JSON API) under <paramref name="prefix"/>, over the application's own Herald:
    /// the bus, the handler host, the dead letters and the topic gates registered by <c>AddHerald</c>. Read-only unless
    /// <see cref="HeraldDashboardOptions.AllowActions"/> is set.
    /// </summary>
    /// <example><code>app.MapHeraldDashboard("/herald", o => o.AllowActions = true);</code></example>
    /// <returns>The route group, for conventions such as <c>RequireAuthorization()</c> on the whole dashboard.</returns>
    public static IEndpointConventionBuilder MapHeraldDashboard(this IEndpointRouteBuilder endpoints, string prefix = "/herald", Action<HeraldDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        var options = new HeraldDashboardOptions();
        configure?.Invoke(options);
        options.Validate();
        var system = new LiveSystem(endpoints.ServiceProvider, options.EventCapacity);
        endpoints.ServiceProvider.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(system.Dispose);
        return MapSystem(endpoints, prefix, system, options);
    }

    /// <summary>Maps the dashboard over any system (the <c>herald dashboard</c> command maps it over a SQLite file); the caller disposes the system.</summary>
    internal static RouteGroupBuilder MapSystem(IEndpointRouteBuilder endpoints, string prefix, HeraldSystem system, HeraldDashboardOptions options)
    {
        options.Validate();
        CancellationToken stopping = endpoints.ServiceProvider.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        var sampler = new Sampler(system, TimeProvider.System, stopping);
        return DashboardEndpoints.Map(endpoints, prefix, system, options, sampler);
    }
}
