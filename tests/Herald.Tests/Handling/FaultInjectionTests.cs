using System.Collections.Concurrent;
using Herald.Testing;
using Herald.Testing.Faults;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Herald.Tests.Handling;

/// <summary>
/// Issue 17: seeded faults (publishes that fail and are retried, publishes stored twice, lost acknowledgements) over
/// many runs: a handler with the inbox applies each effect once, and an ordered handler applies each key's effects in
/// publish order. A failure names its seed; the decisions replay from it.
/// </summary>
public sealed class FaultInjectionTests(ITestOutputHelper output)
{
    private const int Runs = 1_000;
    private const int Events = 12;
    private const int Keys = 3;

    [Topic("fault.step")]
    public sealed record Step(int Id, string Key);

    /// <summary>What the handler applied, in the order it applied it.</summary>
    public sealed class Effects
    {
        public ConcurrentDictionary<int, int> Count { get; } = new();

        public ConcurrentDictionary<string, ConcurrentQueue<int>> ByKey { get; } = new();
    }

    public sealed class Apply(Effects effects) : IEventHandler<Step>
    {
        public Task HandleAsync(EventContext<Step> context, CancellationToken cancellationToken)
        {
            effects.Count.AddOrUpdate(context.Event.Id, 1, (_, n) => n + 1);
            effects.ByKey.GetOrAdd(context.Event.Key, _ => new ConcurrentQueue<int>()).Enqueue(context.Event.Id);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task SeededFaults_InboxAppliesEachEffectOnce_AndKeysKeepTheirOrder()
    {
        long failed = 0, duplicated = 0, dropped = 0;
        for (int seed = 1; seed <= Runs; seed++)
        {
            (long f, long d, long a) = await RunAsync(seed);
            failed += f;
            duplicated += d;
            dropped += a;
        }

        output.WriteLine($"{Runs} seeded runs of {Events} events: {failed} publishes failed and retried, {duplicated} stored twice, {dropped} acknowledgements lost; every effect once, every key in order");
        Assert.True(failed > 0 && duplicated > 0 && dropped > 0, "the runs injected every kind of fault");
    }

    private static async Task<(long, long, long)> RunAsync(int seed)
    {
        var effects = new Effects();
        await using HeraldTestHarness harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.InjectFaults(new FaultPlan(seed));
                h.AddHandler<Apply, Step>(o => { o.OrderedByKey = true; o.Concurrency = 2; o.Retry = Retry.None; });
            },
            s => s.AddSingleton(effects));
        var faulty = (FaultyTransport)harness.Bus.Transport;

        for (int id = 1; id <= Events; id++)
        {
            string key = $"k{id % Keys}";
            var envelope = new Envelope("fault.step", new Step(id, key), DateTimeOffset.UnixEpoch) { Subject = key };
            while (true)
            {
                try
                {
                    await harness.Bus.PublishAsync(envelope); // the same envelope again after a failure: the same id
                    break;
                }
                catch (InjectedFaultException)
                {
                    // retried, as a publisher would
                }
            }
        }

        // Every copy settled: each published copy and each redelivery of a lost acknowledgement finished once.
        long deadline = Environment.TickCount64 + 30_000;
        while (true)
        {
            (long _, long duplicates, long drops) = faulty.Injected;
            ConsumerInfo consumer = Assert.Single(harness.Host.Consumers);
            if (harness.Deliveries.Count == Events + duplicates + drops && consumer.Queue.Queued == 0 && consumer.Stats.InFlight == 0)
            {
                break;
            }

            Assert.True(Environment.TickCount64 < deadline, $"seed {seed}: {harness.Deliveries.Count} deliveries finished, {Events + duplicates + drops} expected");
            await Task.Delay(1);
        }

        for (int id = 1; id <= Events; id++)
        {
            Assert.True(effects.Count.TryGetValue(id, out int n) && n == 1, $"seed {seed}: event {id} applied {n} times");
        }

        foreach ((string key, ConcurrentQueue<int> applied) in effects.ByKey)
        {
            Assert.True(applied.SequenceEqual(applied.Order()), $"seed {seed}: key {key} applied out of order: {string.Join(", ", applied)}");
        }

        return faulty.Injected;
    }
}
