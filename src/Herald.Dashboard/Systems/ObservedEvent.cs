namespace Herald.Dashboard.Systems;

/// <summary>An event seen by an operator's view: its place in the log (or in the view's own sequence) and its envelope.</summary>
internal sealed record ObservedEvent(long Position, Envelope Envelope);
