using Herald.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Herald;

/// <summary>
/// A publish repeated while the host runs, on the bus's <see cref="TimeProvider"/>: every period (from the host's
/// start), or at the times a cron expression names in a time zone.
/// </summary>
internal sealed class RecurringPublish
{
    // A timer cannot wait longer than ~49 days; a wait for a far cron time is taken in steps of at most a day.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private readonly Func<EventBus, CancellationToken, ValueTask> _publish;
    private readonly TimeSpan _period;
    private readonly CronSchedule? _cron;
    private readonly TimeZoneInfo _zone = TimeZoneInfo.Utc;

    /// <summary>Every <paramref name="period"/>, first after one period.</summary>
    public RecurringPublish(string topic, TimeSpan period, Func<EventBus, CancellationToken, ValueTask> publish)
    {
        Topic = topic;
        _period = period;
        _publish = publish;
    }

    /// <summary>At every time <paramref name="cron"/> names in <paramref name="zone"/>.</summary>
    public RecurringPublish(string topic, CronSchedule cron, TimeZoneInfo zone, Func<EventBus, CancellationToken, ValueTask> publish)
    {
        Topic = topic;
        _cron = cron;
        _zone = zone;
        _publish = publish;
    }

    public string Topic { get; }

    public async Task RunAsync(EventBus bus, ILogger logger, CancellationToken stop)
    {
        try
        {
            if (_cron is null)
            {
                using var timer = new PeriodicTimer(_period, bus.TimeProvider);
                while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
                {
                    await PublishAsync(bus, logger, stop).ConfigureAwait(false);
                }

                return;
            }

            TimeProvider clock = bus.TimeProvider;
            DateTimeOffset after = clock.GetUtcNow();
            while (_cron.Next(after, _zone) is { } due)
            {
                // Wait on the clock until the time is reached; a clock that jumps is looked at again after each step.
                // Under a millisecond counts as reached (a timer's resolution: a shorter delay would only spin).
                for (TimeSpan wait = due - clock.GetUtcNow(); wait >= TimeSpan.FromMilliseconds(1); wait = due - clock.GetUtcNow())
                {
                    await Task.Delay(wait < LongestWait ? wait : LongestWait, clock, stop).ConfigureAwait(false);
                }

                await PublishAsync(bus, logger, stop).ConfigureAwait(false);

                // Times missed while the process was suspended or busy are skipped, not fired in a burst.
                DateTimeOffset now = clock.GetUtcNow();
                after = now > due ? now : due;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the host is stopping
        }
    }

    private async Task PublishAsync(EventBus bus, ILogger logger, CancellationToken stop)
    {
        try
        {
            await _publish(bus, stop).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            HandlingLog.RecurringFailed(logger, ex, Topic);
        }
    }
}
