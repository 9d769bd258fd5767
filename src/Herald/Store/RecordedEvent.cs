namespace Herald;

/// <summary>An event as the store holds it: its stream, its version in the stream, its global position, and its envelope.</summary>
/// <param name="StreamId">The stream the event belongs to.</param>
/// <param name="Version">The event's number in its stream, from 1.</param>
/// <param name="Position">The event's position in the whole store (<c>$all</c>), increasing with every append.</param>
/// <param name="Envelope">
/// The envelope; its payload is in <see cref="Envelope.EncodedData"/> (decode it with <see cref="IEventStore.Decode{T}"/>).
/// </param>
public sealed record RecordedEvent(string StreamId, long Version, long Position, Envelope Envelope);
