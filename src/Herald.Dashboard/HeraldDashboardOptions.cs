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

    /// <summary>How many of the newest events the live stream and the event pages keep. Default 10,000.</summary>
    public int EventCapacity { get; set; } = 10_000;
}
