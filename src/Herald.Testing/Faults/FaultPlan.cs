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

    /// <summary>
    /// How often a consumer "crashes" while a delivery is in its pipeline: the delivery is redelivered at once (as a
    /// broker does when the consumer's connection dies), while the handling already started goes on, and whatever that
    /// handling settles is lost. The copy and the original can run at the same time. Default 0.05.
    /// </summary>
    public double CrashMidDelivery { get; init; } = 0.05;

    /// <summary>
    /// How often a consumer that promises no order (a handler not ordered by key) hands out the delivery after the one
    /// it read first: two deliveries swap. A consumer ordered by key is never reordered: that order is what the
    /// transport promises. Default 0.1.
    /// </summary>
    public double Reorder { get; init; } = 0.1;

    /// <summary>How often a publish or a settle waits a random time up to <see cref="MaxDelay"/> (on <see cref="TimeProvider"/>) before it goes on. Default 0.1.</summary>
    public double Delay { get; init; } = 0.1;

    /// <summary>The longest injected delay. Default 2 ms.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>The clock injected delays wait on. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Throws when a probability is outside 0..1 or the delay is negative.</summary>
    internal void Validate()
    {
        foreach ((string name, double p) in new[]
                 {
                     (nameof(FailPublish), FailPublish), (nameof(DuplicatePublish), DuplicatePublish), (nameof(DropAck), DropAck),
                     (nameof(CrashMidDelivery), CrashMidDelivery), (nameof(Reorder), Reorder), (nameof(Delay), Delay),
                 })
        {
            if (p is < 0 or > 1 || double.IsNaN(p))
            {
                throw new ArgumentOutOfRangeException(name, p, $"FaultPlan.{name} is a probability: between 0 and 1.");
            }
        }

        if (MaxDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "FaultPlan.MaxDelay cannot be negative.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }

    /// <summary>The delay to inject for one decision (zero when none), drawn from <paramref name="random"/>.</summary>
    internal TimeSpan NextDelay(Random random) =>
        random.NextDouble() < Delay ? TimeSpan.FromTicks((long)(random.NextDouble() * MaxDelay.Ticks)) : TimeSpan.Zero;
}
