namespace Herald;

/// <summary>How much of a stream the store keeps. Events outside these bounds are deleted when the metadata is set and on later appends.</summary>
/// <param name="MaxCount">Keep at most this many of the newest events; null for no limit.</param>
/// <param name="TruncateBefore">Delete events with a version below this; null for none.</param>
public sealed record StreamMetadata(long? MaxCount = null, long? TruncateBefore = null);
