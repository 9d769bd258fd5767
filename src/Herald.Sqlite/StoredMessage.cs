namespace Herald.Sqlite;

/// <summary>One row of the message log as a group reader sees it.</summary>
internal readonly record struct StoredMessage(long Position, string Topic, string? Target, byte[] Envelope);
