namespace Herald;

/// <summary>The state of one stream.</summary>
/// <param name="StreamId">The stream.</param>
/// <param name="Version">The last event's version (0 when the stream has no event).</param>
/// <param name="Metadata">The stream's metadata.</param>
/// <param name="Deleted">Whether the stream was soft-deleted (its events are gone; appending starts it again after its last version).</param>
public sealed record StreamInfo(string StreamId, long Version, StreamMetadata Metadata, bool Deleted);
