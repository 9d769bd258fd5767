namespace Herald.Testing.Faults;

/// <summary>
/// Which faults a <see cref="FaultyTransport"/> injects, and how often, decided from <see cref="Seed"/>: the same seed
/// makes the same decisions in the same order (per publisher, per consumer), so a failing run replays.
/// </summary>
/// <param name="Seed">The seed every decision derives from; print it with a failure.</param>
public sealed record FaultPlan(int Seed)
{
    /// <summary>How often a publish fails before it reaches the transport (the publisher gets an <see cref="InjectedFaultException"/> and may retry). Default 0.05.</summary>
    public double FailPublish { get; init; } = 0.05;

    /// <summary>How often an accepted publish is published a second time, the same envelope (as a retry after a lost confirm would). Default 0.1.</summary>
    public double DuplicatePublish { get; init; } = 0.1;

    /// <summary>How often an acknowledgement is lost: the delivery comes again (as after a lost ack or a consumer crash before it). Default 0.1.</summary>
    public double DropAck { get; init; } = 0.1;

    /// <summary>Throws when a probability is outside 0..1.</summary>
    internal void Validate()
    {
        foreach ((string name, double p) in new[] { (nameof(FailPublish), FailPublish), (nameof(DuplicatePublish), DuplicatePublish), (nameof(DropAck), DropAck) })
        {
            if (p is < 0 or > 1 || double.IsNaN(p))
            {
                throw new ArgumentOutOfRangeException(name, p, $"FaultPlan.{name} is a probability: between 0 and 1.");
            }
        }
    }
}
