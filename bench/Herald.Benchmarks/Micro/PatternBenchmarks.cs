using BenchmarkDotNet.Attributes;

namespace Herald.Benchmarks.Micro;

/// <summary>The cost of matching one topic against one pattern, per pattern shape (routes cache the result per topic).</summary>
[Config(typeof(MicroConfig))]
public class PatternBenchmarks
{
    private TopicPattern _pattern = null!;

    [Params("user.created", "user.*", "user.#", "#.created", "a.#.b.#.c")]
    public string Pattern { get; set; } = "user.created";

    [GlobalSetup]
    public void Setup() => _pattern = TopicPattern.Parse(Pattern);

    [Benchmark]
    public bool MatchHit() => _pattern.IsMatch(Pattern == "a.#.b.#.c" ? "a.x.b.y.c" : "user.created");

    [Benchmark]
    public bool MatchMiss() => _pattern.IsMatch("order.paid.late");
}
