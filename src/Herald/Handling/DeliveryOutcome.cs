namespace Herald;

/// <summary>How a delivery ended.</summary>
public enum DeliveryOutcome
{
    /// <summary>Not finished yet.</summary>
    Pending = 0,

    /// <summary>The handler completed.</summary>
    Handled = 1,

    /// <summary>Skipped: this consumer had already handled an event with the same id.</summary>
    Duplicate = 2,

    /// <summary>Failed for good (last attempt, or poison) and stored as a dead letter.</summary>
    DeadLettered = 3,

    /// <summary>Failed and could not be dead-lettered (the exception was caught by isolation and logged).</summary>
    Failed = 4,

    /// <summary>Stopped by shutdown before it completed; not a failure, reported as left undelivered.</summary>
    Cancelled = 5,

    /// <summary>
    /// The attempt failed and the next one was stored to run after the retry delay (on a durable transport): the event
    /// comes again as a new delivery with the next attempt number, also after a restart.
    /// </summary>
    Rescheduled = 6,
}
