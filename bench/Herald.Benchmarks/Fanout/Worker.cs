using System.Diagnostics;
using System.Text.Json;

namespace Herald.Benchmarks.Fanout;

/// <summary>Runs one system in one mode in this (fresh) process and prints one JSON result line.</summary>
public static class Worker
{
    private const string Email = "user@example.com";

    public static async Task<int> RunAsync(string system, string mode, int events, int rate)
    {
        FanoutResult result;
        try
        {
            // Publish from a thread-pool thread in both instances, as an async application does (after Main's first
            // await); otherwise the warm-up would publish from the main thread and the measured run from the pool.
            await Task.Yield();

            // Warm up a separate instance in the same mode (JIT, tiering, on-stack replacement of the publishing loop,
            // pools), then measure a fresh one. The runner starts workers with tiering's call-counting delay off, so the
            // warm-up promotes the hot methods before the measured run.
            await RunOnceAsync(system, mode, Math.Clamp(events / 2, 1_000, 50_000), rate, settle: false);
            result = await RunOnceAsync(system, mode, events, rate, settle: true);
        }
        catch (Exception ex)
        {
            result = new FanoutResult(system, mode, events, 0, 0, double.NaN, double.NaN, double.NaN, double.NaN, events, 0, ex.GetType().Name + ": " + ex.Message);
        }

        Console.WriteLine(JsonSerializer.Serialize(result, FanoutJson.Options));
        return 0;
    }

    /// <summary>
    /// Waits until the runtime has compiled no method for 100 ms (at most 3 s). The measured instance's setup (its
    /// container, host and subscriptions, run here for the second time) sends a few hundred methods to the background
    /// compiler for their optimized tier; without this wait that compiling (~100-250 ms of a core for a DI-built host)
    /// runs during the first ~100 ms of the timed run and is charged to its events on a 2-core machine.
    /// </summary>
    private static async Task JitSettledAsync()
    {
        long count = System.Runtime.JitInfo.GetCompiledMethodCount();
        long quietSince = Stopwatch.GetTimestamp();
        long deadline = quietSince + (3 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(10);
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != count)
            {
                count = now;
                quietSince = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(quietSince) >= TimeSpan.FromMilliseconds(100))
            {
                return;
            }
        }
    }

    private static async Task<FanoutResult> RunOnceAsync(string system, string mode, int events, int rate, bool settle)
    {
        var probe = new Probe(events);
        IFanoutSystem sut = SystemCatalog.Create(system);
        await sut.StartAsync(probe);
        if (settle)
        {
            await JitSettledAsync();
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long start = Stopwatch.GetTimestamp();
        if (mode == "burst")
        {
            for (int i = 0; i < events; i++)
            {
                await sut.PublishAsync(new UserCreated(i, Email, Stopwatch.GetTimestamp()));
            }
        }
        else
        {
            // Paced: event i is due at start + i/rate; its latency counts from when it was due (no coordinated omission).
            double ticksPerEvent = (double)Stopwatch.Frequency / rate;
            for (int i = 0; i < events; i++)
            {
                long due = start + (long)(i * ticksPerEvent);
                while (Stopwatch.GetTimestamp() < due)
                {
                    Thread.SpinWait(8);
                }

                await sut.PublishAsync(new UserCreated(i, Email, due));
            }
        }

        TimeSpan grace = mode == "burst" ? TimeSpan.FromSeconds(120) : TimeSpan.FromSeconds(15);
        bool complete = await Task.WhenAny(probe.Done, Task.Delay(grace)) == probe.Done;
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        long lost = ((long)Probe.Subscribers * events) - probe.Received;
        (double p50, double p99, double p999) = probe.Percentiles();
        await sut.DisposeAsync();
        return new FanoutResult(
            system,
            mode,
            events,
            seconds,
            complete ? events / seconds : probe.Received / (double)Probe.Subscribers / seconds,
            p50,
            p99,
            p999,
            (double)allocated / events,
            lost,
            probe.Duplicates,
            complete ? null : $"not complete after {grace.TotalSeconds} s");
    }
}
