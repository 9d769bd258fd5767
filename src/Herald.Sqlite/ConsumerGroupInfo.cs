namespace Herald.Sqlite;

/// <summary>A consumer group registered in a Herald SQLite file.</summary>
/// <param name="Name">The group's name.</param>
/// <param name="Checkpoint">The position below which (and at which) every event is settled for the group.</param>
/// <param name="Lag">Events in the log after the checkpoint (read or not yet read by the group).</param>
/// <param name="Owner">The process reading the group (<c>machine:pid:id</c>), or null when none holds its lease.</param>
/// <param name="LeaseUntil">When the holder's lease runs out unless renewed, or null.</param>
public sealed record ConsumerGroupInfo(string Name, long Checkpoint, long Lag, string? Owner, DateTimeOffset? LeaseUntil);
