namespace Herald.Transport;

/// <summary>
/// An optional ability of a consumer whose events wait somewhere before its local lanes (a log, a broker queue): how
/// many wait there. The depth gauge (<c>herald.queue.depth</c>) and the health check add it to the local queue, so a
/// backlog of a million events in the log or the broker never reads as an empty queue.
/// </summary>
/// <remarks>Read from gauges and health checks: keep it cheap and non-blocking (a value the transport refreshes in the background).</remarks>
public interface IConsumerBacklog
{
    /// <summary>How many events wait for this consumer's group beyond its local lanes, as last measured (0 before the first measure).</summary>
    long Backlog { get; }
}
