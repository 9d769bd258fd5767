namespace Herald.Sqlite;

/// <summary>One row of the message log as a group reader sees it.</summary>
/// <param name="Position">The row's position in the log.</param>
/// <param name="Topic">The event's topic.</param>
/// <param name="Target">The one group the row is for (a redrive or a retry), or null for every group.</param>
/// <param name="Envelope">The stored CloudEvent; null when it was not read because another reader of this process had decoded the row (<see cref="GroupReader"/> loads it when it needs it after all).</param>
/// <param name="Recorded">Whether the inbox held a record of the group's consumer for the row's event id when it was read (true when not asked).</param>
internal readonly record struct StoredMessage(long Position, string Topic, string? Target, byte[]? Envelope, bool Recorded = true);
