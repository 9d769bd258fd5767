namespace Herald.Dashboard;

/// <summary>The body of a dead-letter action: the ids to act on.</summary>
internal sealed record RedriveRequest(IReadOnlyList<string>? Ids);
