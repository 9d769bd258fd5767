using System.Collections.Concurrent;
using Herald.Testing;
using Herald.Testing.Faults;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Herald.Tests.Handling;

/// <summary>
/// Issue 17: seeded faults (publishes that fail and are retried, publishes stored twice, lost acknowledgements,
/// consumers crashing mid-delivery, deliveries swapped where no order is promised, delays) over many runs: handlers
/// with the inbox apply each effect once, and an ordered handler applies each key's effects in publish order. A
/// failure names its seed and what each delivery of the run ended as; the decisions replay from the seed.
/// </summary>
public sealed class FaultInjectionTests(ITestOutputHelper output)
{
    private const int Runs = 1_000;
    private const int Events = 12;
    private const int Keys = 3;

    [Topic("fault.step")]
    public sealed record Step(int Id, string Key);

    /// <summary>What one handler applied, in the order it applied it.</summary>
    public class Effects
    {
        public ConcurrentDictionary<int, int> Count { get; } = new();

        public ConcurrentDictionary<string, ConcurrentQueue<int>> ByKey { get; } = new();

        public Task ApplyAsync(Step step)
        {
            Count.AddOrUpdate(step.Id, 1, (_, n) => n + 1);
            ByKey.GetOrAdd(step.Key, _ => new ConcurrentQueue<int>()).Enqueue(step.Id);
            return Task.CompletedTask;
        }
    }

    public sealed class OrderedEffects : Effects;

    public sealed class AnyOrderEffects : Effects;

    public sealed class ApplyInOrder(OrderedEffects effects) : IEventHandler<Step>
    {
        public Task HandleAsync(EventContext<Step> context, CancellationToken cancellationToken) => effects.ApplyAsync(context.Event);
    }

    public sealed class ApplyInAnyOrder(AnyOrderEffects effects) : IEventHandler<Step>
    {
        public Task HandleAsync(EventContext<Step> context, CancellationToken cancellationToken) => effects.ApplyAsync(context.Event);
    }

    [Fact]
    public async Task SeededFaults_InboxAppliesEachEffectOnce_AndKeysKeepTheirOrder()
    {
        InjectedFaults total = default;
        for (int seed = 1; seed <= Runs; seed++)
        {
            total += await RunAsync(seed, _ => { });
        }

        output.WriteLine(
            $"{Runs} seeded runs of {Events} events to an ordered and an unordered handler: {total.FailedPublishes} publishes failed and retried, " +
            $"{total.DuplicatedPublishes} stored twice, {total.DroppedAcks} acknowledgements lost, {total.Crashes} consumer crashes mid-delivery, " +
            $"{total.Reordered} deliveries swapped, {total.Delayed} publishes or settles delayed; every effect once, every key in order");
        Assert.True(total is { FailedPublishes: > 0, DuplicatedPublishes: > 0, DroppedAcks: > 0, Crashes: > 0, Reordered: > 0, Delayed: > 0 }, $"the runs injected every kind of fault: {total}");
    }

    /// <summary>The same faults over the SQLite transport (fewer runs: each has a file of its own).</summary>
    [Fact]
    public async Task SeededFaults_OnSqlite_InboxAppliesEachEffectOnce_AndKeysKeepTheirOrder()
    {
        const int SqliteRuns = 50;
        InjectedFaults total = default;
        for (int seed = 1; seed <= SqliteRuns; seed++)
        {
            using var db = new TempDatabase();
            total += await RunAsync(seed, h => h.UseSqlite(db.ConnectionString, o => { o.Synchronous = Herald.Sqlite.SqliteSynchronous.Normal; o.PollInterval = TimeSpan.FromMilliseconds(10); }));
        }

        output.WriteLine($"{SqliteRuns} seeded runs on SQLite: {total}; every effect once, every key in order");
        Assert.True(total.ExtraDeliveries > 0);
    }

    [Fact]
    public async Task WithoutTheInbox_TheFaultsShow()
    {
        var effects = new AnyOrderEffects();
        await using HeraldTestHarness harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.InjectFaults(new FaultPlan(1) { DropAck = 0.5 });
                h.AddHandler<ApplyInAnyOrder, Step>(o => { o.Idempotent = false; o.Retry = Retry.None; });
            },
            s => s.AddSingleton(effects));

        for (int id = 1; id <= Events; id++)
        {
            await PublishRetryingAsync(harness, id);
        }

        long deadline = Environment.TickCount64 + 30_000;
        while (effects.Count.Values.Sum() <= Events)
        {
            Assert.True(Environment.TickCount64 < deadline, $"without the inbox, lost acknowledgements should apply some effect twice: {string.Join(", ", effects.Count)}");
            await Task.Delay(1);
        }
    }

    private static async Task PublishRetryingAsync(HeraldTestHarness harness, int id)
    {
        string key = $"k{id % Keys}";
        var envelope = new Envelope("fault.step", new Step(id, key), DateTimeOffset.UnixEpoch) { Subject = key };
        while (true)
        {
            try
            {
                await harness.Bus.PublishAsync(envelope); // the same envelope again after a failure: the same id
                return;
            }
            catch (InjectedFaultException)
            {
                // retried, as a publisher would
            }
        }
    }

    private static async Task<InjectedFaults> RunAsync(int seed, Action<HeraldBuilder> transport)
    {
        var ordered = new OrderedEffects();
        var anyOrder = new AnyOrderEffects();
        await using HeraldTestHarness harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                transport(h);
                h.InjectFaults(new FaultPlan(seed));
                h.AddHandler<ApplyInOrder, Step>(o => { o.OrderedByKey = true; o.Concurrency = 2; o.Retry = Retry.None; });
                h.AddHandler<ApplyInAnyOrder, Step>(o => { o.Concurrency = 2; o.Retry = Retry.None; });
            },
            s => s.AddSingleton(ordered).AddSingleton(anyOrder));
        var faulty = (FaultyTransport)harness.Bus.Transport;

        for (int id = 1; id <= Events; id++)
        {
            await PublishRetryingAsync(harness, id);
        }

        // First every event applied by both handlers, then every copy settled: each published copy reached both
        // consumers, and each lost acknowledgement and each crash brought one more delivery to its consumer.
        long deadline = Environment.TickCount64 + 30_000;
        while (true)
        {
            InjectedFaults injected = faulty.Injected;
            long expected = ((Events + injected.DuplicatedPublishes) * 2) + injected.DroppedAcks + injected.Crashes;
            bool applied = Enumerable.Range(1, Events).All(id => ordered.Count.ContainsKey(id) && anyOrder.Count.ContainsKey(id));
            bool settled = harness.Host.Consumers.All(c => c.Queue.Queued == 0 && c.Stats.InFlight == 0);
            if (applied && settled && harness.Deliveries.Count == expected)
            {
                break;
            }

            if (Environment.TickCount64 >= deadline)
            {
                Assert.Fail($"seed {seed}: {harness.Deliveries.Count} deliveries finished, {expected} expected, every event applied by both: {applied}\n{Describe(harness, ordered, anyOrder)}");
            }

            await Task.Delay(1);
        }

        foreach ((string name, Effects effects) in new (string, Effects)[] { ("ordered", ordered), ("any order", anyOrder) })
        {
            for (int id = 1; id <= Events; id++)
            {
                if (!effects.Count.TryGetValue(id, out int n) || n != 1)
                {
                    Assert.Fail($"seed {seed}: the {name} handler applied event {id} {n} times\n{Describe(harness, ordered, anyOrder)}");
                }
            }
        }

        foreach ((string key, ConcurrentQueue<int> applied) in ordered.ByKey)
        {
            Assert.True(applied.SequenceEqual(applied.Order()), $"seed {seed}: key {key} applied out of order: {string.Join(", ", applied)}");
        }

        return faulty.Injected;
    }

    private static string Describe(HeraldTestHarness harness, OrderedEffects ordered, AnyOrderEffects anyOrder) =>
        $"injected: {((FaultyTransport)harness.Bus.Transport).Injected}\n" +
        $"applied in order: {string.Join(", ", ordered.Count.ToArray().OrderBy(p => p.Key).Select(p => $"{p.Key}x{p.Value}"))}\n" +
        $"applied in any order: {string.Join(", ", anyOrder.Count.ToArray().OrderBy(p => p.Key).Select(p => $"{p.Key}x{p.Value}"))}\n" +
        $"deliveries: {string.Join("; ", harness.Deliveries.Select(d => $"{d.Handler} {((Step)d.Envelope.Data!).Id} {d.Outcome} (attempt {d.Envelope.Attempt})"))}";
}
