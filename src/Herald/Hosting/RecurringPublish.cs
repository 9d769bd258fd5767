using Herald.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Herald;

/// <summary>A publish repeated every period on the bus's <see cref="TimeProvider"/>, from the host's start to its stop.</summary>
internal sealed class RecurringPublish(string topic, TimeSpan period, Func<EventBus, CancellationToken, ValueTask> publish)
{
    public string Topic { get; } = topic;

    public TimeSpan Period { get; } = period;

    public async Task RunAsync(EventBus bus, ILogger logger, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Period, bus.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await publish(bus, stop).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
                {
                    HandlingLog.RecurringFailed(logger, ex, Topic);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the host is stopping
        }
    }
}
