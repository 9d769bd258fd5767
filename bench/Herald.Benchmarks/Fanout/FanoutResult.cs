using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.Benchmarks.Fanout;

/// <summary>One run of one system in one mode, as the worker process reports it.</summary>
public sealed record FanoutResult(
    string System,
    string Mode,
    int Events,
    double Seconds,
    double EventsPerSecond,
    double P50Us,
    double P99Us,
    double P999Us,
    double BytesPerEvent,
    long Lost,
    long Duplicates,
    string? Error);

/// <summary>JSON between the worker and the runner (NaN allowed: a failed run has no latency).</summary>
public static class FanoutJson
{
    public static readonly JsonSerializerOptions Options = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
}
