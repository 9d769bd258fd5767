using System.Diagnostics;
using Herald.Testing;
using Herald.Tests.Handling;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Bugs;

/// <summary>
/// Issue 16, finding 7: stopping the host while events were still queued bounced between the outer wait (true at once
/// while items are queued) and the inner loop (exiting on the cancelled intake), spinning a core until the shutdown
/// timeout and reporting a loop still running although its handler had finished.
/// </summary>
public sealed class StopWithQueuedEventsTests
{
    [Fact]
    public async Task Stop_WithEventsStillQueued_EndsWhenTheInFlightHandlerEnds_NotAtTheDeadline()
    {
        var probe = new Probe { Expected = 1 };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.Host.ShutdownTimeout = TimeSpan.FromSeconds(20);
                h.AddHandler<HostingTests.Gated, Numbered>(o => o.Capacity = 100);
            },
            s => s.AddSingleton(probe).AddSingleton(gate));
        for (int i = 0; i < 20; i++)
        {
            await harness.Bus.PublishAsync(new Numbered(0, i));
        }

        await probe.Reached.Task.WaitAsync(TimeSpan.FromSeconds(20)); // the first is in flight, 19 are queued

        var stopwatch = Stopwatch.StartNew();
        Task stopping = harness.Host.StopAsync(CancellationToken.None);
        gate.SetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(60));
        stopwatch.Stop();

        ShutdownReport report = harness.Host.LastShutdown!;
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"stop took {stopwatch.Elapsed}: it waited for the 20 s deadline instead of the handler");
        Assert.Equal(0, report.StillRunning);
        Assert.Equal(19, report.Left["Gated"]);
        Assert.Single(probe.Seen);
    }
}
