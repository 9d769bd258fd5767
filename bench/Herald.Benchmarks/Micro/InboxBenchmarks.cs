using BenchmarkDotNet.Attributes;

namespace Herald.Benchmarks.Micro;

/// <summary>
/// One claim in the in-memory inbox at steady state: a full window (the oldest id forgotten per claim), new ids each
/// time, one consumer, one thread. <c>Window</c> is the per-consumer capacity (the default is 32,768).
/// </summary>
[Config(typeof(MicroConfig))]
public class InboxBenchmarks
{
    private const int Claims = 1_000;
    private Guid[] _ids = [];
    private InMemoryInboxStore _inbox = null!;
    private InMemoryInboxStore.Window _window = null!;
    private int _next;

    [Params(1_024, 32_768, 100_000)]
    public int Window { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _inbox = new InMemoryInboxStore(Window);
        _window = _inbox.WindowFor("email");
        _ids = new Guid[4 * 1_048_576];
        for (int i = 0; i < _ids.Length; i++)
        {
            _ids[i] = Guid.CreateVersion7();
        }

        for (int i = 0; i < Window; i++)
        {
            _window.TryBegin(Guid.NewGuid()); // fill the window
        }
    }

    [Benchmark(OperationsPerInvoke = Claims)]
    public bool Claim()
    {
        bool all = true;
        Guid[] ids = _ids;
        int next = _next;
        for (int i = 0; i < Claims; i++)
        {
            all &= _window.TryBegin(ids[next]);
            next = next + 1 == ids.Length ? 0 : next + 1;
        }

        _next = next;
        return all;
    }
}
