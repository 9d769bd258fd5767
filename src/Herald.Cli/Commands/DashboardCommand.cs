using System.CommandLine;
using Herald.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Cli.Commands;

/// <summary><c>herald dashboard --sqlite herald.db [--urls http://127.0.0.1:5080] [--allow-actions]</c></summary>
internal static class DashboardCommand
{
    public static Command Create(SystemOptions systems)
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen (port 0 picks a free one).", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var allow = new Option<bool>("--allow-actions") { Description = "Allow redrive, delete and publish from the page (from this machine only)." };
        var remoteReads = new Option<bool>("--allow-remote-reads") { Description = "Let other machines read the dashboard (payloads, headers, exception messages): only behind authentication of your own." };
        var command = new Command("dashboard", """
            Serve the live dashboard over a Herald file or broker until Ctrl+C: topology, live events, dead letters, charts.
            Example: herald dashboard --sqlite herald.db --allow-actions   (then open http://127.0.0.1:5080/herald/)
            """)
        {
            urls, allow, remoteReads,
        };
        command.SetSystemAction(systems, async (parse, system, ct) =>
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders(); // the command reports its own failures, one line each
            builder.WebHost.UseSetting("urls", parse.GetValue(urls)!);
            WebApplication app = builder.Build();
            await using (app.ConfigureAwait(false))
            {
                HeraldDashboardExtensions.MapSystem(app, "/herald", system, new HeraldDashboardOptions { AllowActions = parse.GetValue(allow), AllowRemoteReads = parse.GetValue(remoteReads) });
                app.MapGet("/", () => Microsoft.AspNetCore.Http.Results.Redirect("/herald/"));
                await system.GetHeadAsync(ct).ConfigureAwait(false); // a broker's view starts watching now, not at the first page load
                await app.StartAsync(ct).ConfigureAwait(false);
                string address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? parse.GetValue(urls)!;
                Console.Out.WriteLine($"dashboard on {system.Name}: {address}/herald/ ({(parse.GetValue(allow) ? "actions allowed from this machine" : "read-only")}); Ctrl+C stops");
                await Console.Out.FlushAsync(ct).ConfigureAwait(false);
                try
                {
                    // Ctrl+C reaches the command's token; SIGTERM reaches the web host's lifetime first: either stops.
                    using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, app.Lifetime.ApplicationStopping);
                    await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    // stopped by a signal
                }
                finally
                {
                    await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
