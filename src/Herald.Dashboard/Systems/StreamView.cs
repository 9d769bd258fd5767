namespace Herald.Dashboard.Systems;

/// <summary>An event-store stream: its id, last version, and whether it is deleted.</summary>
internal sealed record StreamView(string Id, long Version, bool Deleted);
