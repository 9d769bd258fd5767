namespace Herald.Testing;

/// <summary>One delivery the harness saw finish: which handler, which envelope, how it ended.</summary>
/// <param name="Handler">The handler (consumer) name.</param>
/// <param name="Envelope">The envelope delivered.</param>
/// <param name="Outcome">How the delivery ended.</param>
/// <param name="Attempts">Attempts made.</param>
public sealed record ConsumedEvent(string Handler, Envelope Envelope, DeliveryOutcome Outcome, int Attempts);
