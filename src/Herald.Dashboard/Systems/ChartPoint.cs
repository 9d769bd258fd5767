namespace Herald.Dashboard.Systems;

/// <summary>One second of a system: events published and deliveries handled per second, handler latency p50/p99 (ms, null when none).</summary>
internal sealed record ChartPoint(long Time, double Published, double Handled, double? P50, double? P99);
