namespace Herald.Dashboard.Systems;

/// <summary>
/// Running totals of a system at one moment (events published, deliveries handled) and the handler latencies seen
/// since the previous reading, in milliseconds; a sampler turns successive readings into rates and percentiles.
/// </summary>
internal sealed record Counters(long Published, long Handled, IReadOnlyList<double> LatenciesMs);
