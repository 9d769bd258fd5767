namespace Herald;

/// <summary>What a host stop left undelivered, per handler.</summary>
/// <param name="Elapsed">How long the stop took.</param>
/// <param name="Left">Per handler name: deliveries cancelled in flight plus events still queued.</param>
/// <param name="StillRunning">Delivery loops whose handlers ignored cancellation and were still running when the stop returned.</param>
public sealed record ShutdownReport(TimeSpan Elapsed, IReadOnlyDictionary<string, long> Left, int StillRunning)
{
    /// <summary>All events left undelivered.</summary>
    public long TotalLeft => Left.Values.Sum();
}
