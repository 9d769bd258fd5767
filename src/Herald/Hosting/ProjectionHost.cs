using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald;

/// <summary>Runs every registered <see cref="IProjection"/> while the host runs; a failing projection is logged and restarted from its checkpoint.</summary>
internal sealed class ProjectionHost(IServiceProvider services, ILogger<ProjectionHost> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task[] _runs = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        IEventStore store = services.GetService<IEventStore>()
            ?? throw new InvalidOperationException("Projections need an IEventStore: call UseSqlite (or register an IEventStore) in AddHerald.");
        var runner = new ProjectionRunner(store);
        _runs = [.. services.GetServices<IProjection>().Select(p => Task.Run(() => RunAsync(runner, p, _stop.Token), CancellationToken.None))];
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_runs).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task RunAsync(ProjectionRunner runner, IProjection projection, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await runner.RunAsync(projection, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // a projection's failure must not end the others or the host: logged, then retried from its checkpoint
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Diagnostics.HandlingLog.ProjectionFailed(logger, ex, projection.Name);
                await Task.Delay(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
            }
        }
    }
}
