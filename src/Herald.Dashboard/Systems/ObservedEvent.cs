namespace Herald.Dashboard.Systems;

/// <summary>An event seen by an operator's view: its place in the log (or in the view's own sequence) and its envelope.</summary>
internal sealed record ObservedEvent(long Position, Envelope Envelope)
{
    /// <summary>
    /// The header a view puts on the preview of a large event in a list (its value: the stored size in bytes): the
    /// payload is only its start; read the event by id for all of it.
    /// </summary>
    public const string PreviewHeader = "herald-preview-of";

    /// <summary>Whether <see cref="Envelope"/> is a preview of a larger event (see <see cref="PreviewHeader"/>).</summary>
    public bool IsPreview => Envelope.Headers.ContainsKey(PreviewHeader);
}
