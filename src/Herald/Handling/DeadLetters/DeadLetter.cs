namespace Herald;

/// <summary>An event a handler could not handle, kept with why, so it can be inspected and redriven.</summary>
/// <param name="Id">The dead letter's own id.</param>
/// <param name="Envelope">The event as it was delivered.</param>
/// <param name="Consumer">The handler (consumer) that failed.</param>
/// <param name="Reason">Why: <c>poison</c>, <c>attempts-exhausted</c>, or <c>not-retryable</c>.</param>
/// <param name="ExceptionType">The full name of the last exception's type.</param>
/// <param name="ExceptionMessage">The last exception's message.</param>
/// <param name="Attempts">Attempts made.</param>
/// <param name="Time">When it was dead-lettered.</param>
public sealed record DeadLetter(
    string Id,
    Envelope Envelope,
    string Consumer,
    string Reason,
    string? ExceptionType,
    string? ExceptionMessage,
    int Attempts,
    DateTimeOffset Time);
