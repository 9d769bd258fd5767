namespace Herald.Dashboard.Systems;

/// <summary>
/// Reads a system's counters once a second and keeps the last ten minutes as chart points (rates from successive
/// totals, latency percentiles from the latencies of that second). Starts on first use, stops with the application.
/// </summary>
internal sealed class Sampler(HeraldSystem system, TimeProvider time, CancellationToken stopping)
{
    private const int Keep = 600;
    private readonly Queue<ChartPoint> _points = new();
    private readonly Lock _lock = new();
    private Task? _loop;

    public IReadOnlyList<ChartPoint> Points()
    {
        lock (_lock)
        {
            _loop ??= Task.Run(LoopAsync, CancellationToken.None);
            return [.. _points];
        }
    }

    internal static double? Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? null : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private async Task LoopAsync()
    {
        Counters? last = null;
        long lastTicks = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            do
            {
                Counters now;
                try
                {
                    now = await system.ReadCountersAsync(stopping).ConfigureAwait(false);
                }
                catch (Exception) when (!stopping.IsCancellationRequested)
                {
                    continue; // a busy file or a broker away: the chart shows a gap, the next second tries again
                }

                long ticks = time.GetTimestamp();
                if (last is not null)
                {
                    double seconds = time.GetElapsedTime(lastTicks, ticks).TotalSeconds;
                    var sorted = now.LatenciesMs.Order().ToList();
                    var point = new ChartPoint(
                        time.GetUtcNow().ToUnixTimeMilliseconds(),
                        Math.Max(0, now.Published - last.Published) / seconds,
                        Math.Max(0, now.Handled - last.Handled) / seconds,
                        Percentile(sorted, 0.50),
                        Percentile(sorted, 0.99));
                    lock (_lock)
                    {
                        _points.Enqueue(point);
                        while (_points.Count > Keep)
                        {
                            _points.Dequeue();
                        }
                    }
                }

                last = now;
                lastTicks = ticks;
            }
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // the application is stopping
        }
    }
}
