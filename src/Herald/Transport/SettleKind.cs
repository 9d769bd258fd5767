namespace Herald.Transport;

/// <summary>How a delivery is settled (<see cref="IConsumer.SettleAsync"/>).</summary>
public enum SettleKind
{
    /// <summary>Done: it will not come again.</summary>
    Ack,

    /// <summary>Refused: put it back for another attempt now (attempt + 1).</summary>
    Requeue,

    /// <summary>
    /// Not finished and not to be retried here (its handler was cancelled by shutdown): a durable transport keeps it
    /// unacknowledged, so it is delivered again after a restart; in memory it is gone with the process.
    /// </summary>
    Release,
}
