namespace Herald.Dashboard;

/// <summary>How the dashboard behaves: read-only by default; actions need <see cref="AllowActions"/>.</summary>
public sealed class HeraldDashboardOptions
{
    /// <summary>
    /// Allows the actions that change things (redrive and delete dead letters, publish, block/pause/resume topic
    /// gates). False by default: the dashboard only reads.
    /// </summary>
    public bool AllowActions { get; set; }

    /// <summary>
    /// The authorization policy actions require. Without one, actions are only accepted from the loopback address
    /// (a request from another machine is refused even with <see cref="AllowActions"/>); with one, the policy decides.
    /// </summary>
    public string? ActionsPolicy { get; set; }

    /// <summary>
    /// The authorization policy every request needs, the page and its reads included (they show payloads, headers and
    /// exception messages). Without one, the dashboard answers this machine only (a loopback connection addressed to a
    /// loopback name) unless <see cref="AllowRemoteReads"/> says otherwise.
    /// </summary>
    public string? ReadsPolicy { get; set; }

    /// <summary>
    /// Lets any caller that reaches the dashboard read it without a <see cref="ReadsPolicy"/>: only for a dashboard that
    /// sits behind authentication of your own (a mapped group with <c>RequireAuthorization()</c>, a proxy). False by default.
    /// </summary>
    public bool AllowRemoteReads { get; set; }

    /// <summary>How many of the newest events the live stream and the event pages keep. Default 10,000.</summary>
    public int EventCapacity { get; set; } = 10_000;

    /// <summary>Throws an exception naming the setting when a value is out of range.</summary>
    internal void Validate()
    {
        if (EventCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(EventCapacity), EventCapacity, "HeraldDashboardOptions.EventCapacity must be at least 1: it is how many of the newest events the live view keeps.");
        }

        if (ActionsPolicy is { } actions && string.IsNullOrWhiteSpace(actions))
        {
            throw new ArgumentException("HeraldDashboardOptions.ActionsPolicy must name a policy, or be null.", nameof(ActionsPolicy));
        }

        if (ReadsPolicy is { } reads && string.IsNullOrWhiteSpace(reads))
        {
            throw new ArgumentException("HeraldDashboardOptions.ReadsPolicy must name a policy, or be null.", nameof(ReadsPolicy));
        }
    }
}
