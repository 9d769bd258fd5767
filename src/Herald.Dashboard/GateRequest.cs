namespace Herald.Dashboard;

/// <summary>The body of a gate action: the pattern and pause, block, discard or resume.</summary>
internal sealed record GateRequest(string? Pattern, string? Action);
