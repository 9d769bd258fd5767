namespace Herald;

/// <summary>How the Herald host stops and when its health check complains. Defaults are documented per setting.</summary>
public sealed class HeraldHostOptions
{
    /// <summary>How long shutdown waits for in-flight deliveries before cancelling the handlers' tokens. Default 30 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long shutdown waits, after cancelling, for handlers to give up before it reports them. Default 5 s.</summary>
    public TimeSpan CancellationGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Degraded when a queue holds more than this fraction of its capacity. Default 0.8.</summary>
    public double QueueHighWaterMark { get; set; } = 0.8;

    /// <summary>Degraded when a queue's oldest event has waited longer than this. Default 30 s.</summary>
    public TimeSpan MaxOldestEventAge { get; set; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (ShutdownTimeout < TimeSpan.Zero || CancellationGrace < TimeSpan.Zero)
        {
            throw new InvalidOperationException($"HeraldHostOptions: ShutdownTimeout ({ShutdownTimeout}) and CancellationGrace ({CancellationGrace}) must not be negative.");
        }

        if (QueueHighWaterMark is <= 0 or > 1)
        {
            throw new InvalidOperationException($"HeraldHostOptions.QueueHighWaterMark is {QueueHighWaterMark}; it is a fraction of capacity, above 0 and at most 1.");
        }

        if (MaxOldestEventAge <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"HeraldHostOptions.MaxOldestEventAge is {MaxOldestEventAge}; it must be positive.");
        }
    }
}
