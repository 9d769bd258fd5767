using BenchmarkDotNet.Attributes;

namespace Herald.Benchmarks.Micro;

/// <summary>Making an envelope, and its UUIDv7 id (made on first read) against the framework's generator.</summary>
[Config(typeof(MicroConfig))]
public class EnvelopeBenchmarks
{
    private readonly MicroEvent _event = new(1);
    private readonly DateTimeOffset _now = DateTimeOffset.UnixEpoch.AddYears(56);

    [Benchmark(Baseline = true)]
    public Envelope Create() => new("user.created", _event, _now, topicChecked: true);

    [Benchmark]
    public Envelope CreateValidated() => new("user.created", _event, _now);

    [Benchmark]
    public string CreateAndReadId() => new Envelope("user.created", _event, _now, topicChecked: true).Id;

    [Benchmark]
    public Guid UuidV7Herald() => UuidV7.New(_now);

    [Benchmark]
    public Guid UuidV7Framework() => Guid.CreateVersion7(_now);
}
