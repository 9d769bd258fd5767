using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Herald.Nats;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Herald.Tests.Nats;

/// <summary>
/// Issue 18's fault tests on a real nats-server: the server SIGKILLed in the middle of acknowledged publishes, a
/// consumer process SIGKILLed mid-stream, a silent server, publishes during an outage, and retries that outlive a restart.
/// </summary>
[Collection(NatsCollection.Name)]
public sealed class NatsFaultTests(NatsServer server, ITestOutputHelper output)
{
    private readonly string _unique = $"f{Guid.NewGuid():N}"[..12];

    public sealed class Handled
    {
        public ConcurrentDictionary<long, int> Ids { get; } = new();
    }

    public sealed class Worker(Handled handled) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            handled.Ids.AddOrUpdate(context.Event.Id, 1, (_, n) => n + 1);
            return Task.CompletedTask;
        }
    }

    private Task<HeraldTestHarness> StartAsync(Handled handled, Action<NatsOptions>? configure = null, Action<HandlerOptions>? handler = null) =>
        HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseNats(server.Url, o =>
                {
                    o.Stream = _unique.ToUpperInvariant();
                    o.SubjectPrefix = _unique;
                    configure?.Invoke(o);
                });
                h.AddHandler<Worker, UserCreated>(o => { o.Group = "workers"; handler?.Invoke(o); });
            },
            s => s.AddSingleton(handled));


    /// <summary>
    /// (1) SIGKILL the server in the middle of 10,000 acknowledged publishes and start it again on the same store: every
    /// acknowledged publish is handled, none lost; redeliveries are suppressed by the inbox.
    /// </summary>
    [Fact]
    public async Task ServerKilledMidStream_EveryAcknowledgedPublishIsHandled_Once()
    {
        const int Count = 10_000;
        var handled = new Handled();
        await using HeraldTestHarness harness = await StartAsync(handled, o => o.PublishTimeout = TimeSpan.FromSeconds(30), o => o.Concurrency = 4);

        var acknowledged = new ConcurrentDictionary<long, bool>();
        var failures = new ConcurrentBag<string>();
        Task publishing = Parallel.ForAsync(0, Count, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            var envelope = new Envelope("user.created", new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch), DateTimeOffset.UtcNow) { Id = $"n-{i}" };
            try
            {
                await harness.Bus.PublishAsync(envelope);
                acknowledged[i] = true;
            }
            catch (NatsPublishException ex)
            {
                failures.Add(ex.Message); // not acknowledged: no promise made
            }
        });

        await Poll.UntilAsync(() => acknowledged.Count >= Count / 3, TimeSpan.FromSeconds(60), () => $"{acknowledged.Count} acknowledged");
        await server.KillAsync();
        long killedAt = acknowledged.Count;
        await server.StartAsync();
        await publishing.WaitAsync(TimeSpan.FromMinutes(3));

        await Poll.UntilAsync(
            () => acknowledged.Keys.All(handled.Ids.ContainsKey),
            TimeSpan.FromMinutes(2),
            () => $"{acknowledged.Keys.Count(id => !handled.Ids.ContainsKey(id))} acknowledged events not handled, e.g. {string.Join(", ", acknowledged.Keys.Where(id => !handled.Ids.ContainsKey(id)).Order().Take(10))}");
        int duplicates = harness.Deliveries.Count(d => d.Outcome == DeliveryOutcome.Duplicate);
        string figures = $"NATS server SIGKILL at {killedAt} acknowledged: acknowledged {acknowledged.Count} of {Count}, distinct handled {handled.Ids.Count}, " +
            $"handler runs {handled.Ids.Values.Sum()}, redeliveries suppressed by the inbox {duplicates}, publishes failed {failures.Count}";
        output.WriteLine(figures);
        Console.WriteLine(figures);

        Assert.All(handled.Ids.Values, n => Assert.Equal(1, n));
        Assert.True(acknowledged.Count >= Count - failures.Count);
    }

    /// <summary>(2) SIGKILL one of two consumer processes of a group mid-stream: its unacknowledged messages go to the other.</summary>
    [Fact]
    public async Task AKilledConsumersUnacknowledgedMessages_AreRedeliveredToTheOtherMember()
    {
        const int Count = 400;
        const int AckWaitSeconds = 3;
        var handled = new Handled();
        await using HeraldTestHarness harness = await StartAsync(handled, o => o.AckWait = TimeSpan.FromSeconds(AckWaitSeconds));

        using var child = new ChildProcess("Herald.RabbitChild", server.Url, _unique.ToUpperInvariant(), _unique, AckWaitSeconds.ToString(CultureInfo.InvariantCulture));
        await child.WaitForLineAsync(l => l == "READY", TimeSpan.FromSeconds(60));
        for (int i = 0; i < Count; i++)
        {
            await harness.Bus.PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch));
        }

        // Killed while its slow handlers are busy and more messages wait unacknowledged in its window.
        await child.WaitForLineAsync(l => l.StartsWith("H ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        child.Kill();
        await child.ExitedAsync();

        HashSet<long> startedThere = [.. child.Lines.Where(l => l.StartsWith("R ", StringComparison.Ordinal)).Select(l => long.Parse(l[2..], CultureInfo.InvariantCulture))];
        HashSet<long> finishedThere = [.. child.Lines.Where(l => l.StartsWith("H ", StringComparison.Ordinal)).Select(l => long.Parse(l[2..], CultureInfo.InvariantCulture))];
        await Poll.UntilAsync(
            () => Enumerable.Range(0, Count).All(i => handled.Ids.ContainsKey(i) || finishedThere.Contains(i)),
            TimeSpan.FromSeconds(60),
            () => $"not every event was handled: here {handled.Ids.Count}, in the killed process {finishedThere.Count}");

        long[] interrupted = [.. startedThere.Except(finishedThere)];
        Assert.NotEmpty(interrupted);
        Assert.All(interrupted, id => Assert.True(handled.Ids.ContainsKey(id), $"event {id} was interrupted by the kill and never redelivered"));
        output.WriteLine($"consumer SIGKILL: {finishedThere.Count} handled there, {handled.Ids.Count} here, {interrupted.Length} interrupted and redelivered here");
    }

    /// <summary>A server that accepts TCP and never speaks NATS fails the start within the connect timeout, naming it.</summary>
    [Fact]
    public async Task ASilentServer_FailsTheStart_WithinTheConnectTimeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<Socket>();
        Task accepting = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    accepted.Add(await silent.AcceptSocketAsync());
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    return;
                }
            }
        });

        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        long started = Environment.TickCount64;
        Exception failed = await Assert.ThrowsAnyAsync<Exception>(() => HeraldTestHarness.StartAsync(h =>
        {
            h.UseNats($"nats://127.0.0.1:{port}", o => o.ConnectTimeout = TimeSpan.FromSeconds(2));
            h.AddHandler<Worker, UserCreated>();
        }, s => s.AddSingleton(new Handled())));
        long elapsed = Environment.TickCount64 - started;
        silent.Stop();
        await accepting;
        accepted.ForEach(s => s.Dispose());

        TimeoutException reason = Assert.IsType<TimeoutException>(failed is TimeoutException ? failed : failed.InnerException);
        Assert.Contains($"127.0.0.1:{port}", reason.Message, StringComparison.Ordinal);
        Assert.Contains("NatsOptions.ConnectTimeout", reason.Message, StringComparison.Ordinal);
        Assert.InRange(elapsed, 0, 20_000);
    }

    /// <summary>A publish while the server is down waits up to the publish timeout, then fails clearly; after a restart the consumer resumes.</summary>
    [Fact]
    public async Task APublishDuringAnOutage_FailsAfterThePublishTimeout_AndConsumersResume()
    {
        var handled = new Handled();
        await using HeraldTestHarness harness = await StartAsync(handled, o => o.PublishTimeout = TimeSpan.FromSeconds(2));
        await harness.Bus.PublishAsync(new UserCreated(1, "x@y.z", DateTimeOffset.UnixEpoch));
        await Poll.UntilAsync(() => handled.Ids.ContainsKey(1), TimeSpan.FromSeconds(30), () => "first event");

        await server.KillAsync();
        try
        {
            long started = Environment.TickCount64;
            NatsPublishException refused = await Assert.ThrowsAsync<NatsPublishException>(() => harness.Bus.PublishAsync(new UserCreated(2, "x@y.z", DateTimeOffset.UnixEpoch)).AsTask());
            long elapsed = Environment.TickCount64 - started;
            Assert.Contains("within 2 s (NatsOptions.PublishTimeout)", refused.Message, StringComparison.Ordinal);
            Assert.InRange(elapsed, 1_500, 10_000);
        }
        finally
        {
            await server.StartAsync();
        }

        // The client reconnects with a backoff: a publish in that window fails after the publish timeout, as the one
        // above did, so the publisher tries again (bounded), as a caller would.
        long deadline = Environment.TickCount64 + 60_000;
        while (true)
        {
            try
            {
                await harness.Bus.PublishAsync(new UserCreated(3, "x@y.z", DateTimeOffset.UnixEpoch));
                break;
            }
            catch (NatsPublishException) when (Environment.TickCount64 < deadline)
            {
            }
        }

        await Poll.UntilAsync(() => handled.Ids.ContainsKey(3), TimeSpan.FromSeconds(60), () => "the consumer did not resume after the restart");
    }

    public sealed class FailsFirst(Handled handled) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            handled.Ids.AddOrUpdate(context.Event.Id * 100 + context.Attempt, 1, (_, n) => n + 1);
            return context.Attempt == 1 ? throw new InvalidOperationException("first attempt fails") : Task.CompletedTask;
        }
    }

    /// <summary>
    /// A retry is a <c>-NAK</c> with its delay, kept by the server: the host stops while it waits, the server restarts,
    /// another host starts, and the retry comes as attempt 2 after the delay.
    /// </summary>
    [Fact]
    public async Task ARetry_OutlivesTheConsumerAndTheServer()
    {
        var handled = new Handled();
        Task<HeraldTestHarness> Start() => HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseNats(server.Url, o => { o.Stream = _unique.ToUpperInvariant(); o.SubjectPrefix = _unique; });
                h.AddHandler<FailsFirst, UserCreated>(o => { o.Group = "retrying"; o.Retry = Retry.Fixed(3, TimeSpan.FromSeconds(4)); });
            },
            s => s.AddSingleton(handled));

        await using (HeraldTestHarness first = await Start())
        {
            await first.Bus.PublishAsync(new UserCreated(7, "x@y.z", DateTimeOffset.UnixEpoch));
            await first.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Rescheduled, 1, TimeSpan.FromSeconds(30));
        }

        long nakked = Environment.TickCount64;
        await server.RestartAsync(); // SIGTERM: the server keeps the consumer's state, the retry's delay with it
        await using HeraldTestHarness second = await Start();
        await Poll.UntilAsync(() => handled.Ids.ContainsKey(702), TimeSpan.FromSeconds(60), () => $"attempt 2 never came: {string.Join(", ", handled.Ids.Keys)}");
        long waited = Environment.TickCount64 - nakked;
        output.WriteLine($"retry after a server restart came {waited} ms after the -NAK of 4 s");
        Assert.InRange(waited, 1_000, 20_000); // the delay, not AckWait (30 s): the server kept it
        Assert.Equal(1, handled.Ids[701]);
        Assert.Equal(1, handled.Ids[702]);
    }
}
