using BenchmarkDotNet.Attributes;

namespace Herald.Benchmarks.Micro;

/// <summary>One publish to N pull subscriptions (queues drained between batches, so a publish never waits).</summary>
[Config(typeof(MicroConfig))]
public class PublishBenchmarks
{
    private const int Batch = 1_000;
    private EventBus _bus = null!;
    private Subscription<MicroEvent>[] _subs = [];
    private MicroEvent _event = null!;

    [Params(0, 1, 3, 10)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _bus = new EventBus();
        _subs = [.. Enumerable.Range(0, Subscribers).Select(_ => _bus.Subscribe<MicroEvent>(new SubscriptionOptions { Capacity = Batch * 2 }))];
        _event = new MicroEvent(1);
    }

    [GlobalCleanup]
    public void Cleanup() => _bus.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = Batch)]
    public void Publish()
    {
        for (int i = 0; i < Batch; i++)
        {
            ValueTask sent = _bus.PublishAsync(_event);
            if (!sent.IsCompletedSuccessfully)
            {
                sent.AsTask().GetAwaiter().GetResult();
            }
        }

        foreach (Subscription<MicroEvent> sub in _subs)
        {
            while (sub.TryRead(out _))
            {
            }
        }
    }
}
