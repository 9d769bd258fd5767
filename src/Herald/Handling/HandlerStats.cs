namespace Herald;

/// <summary>A snapshot of one handler's counters.</summary>
/// <param name="Handled">Deliveries the handler completed.</param>
/// <param name="Retried">Attempts made again after a failure.</param>
/// <param name="DeadLettered">Deliveries stored as dead letters.</param>
/// <param name="Duplicates">Deliveries skipped as already handled.</param>
/// <param name="Failed">Deliveries that failed and could not be dead-lettered.</param>
/// <param name="Cancelled">Deliveries stopped by shutdown.</param>
/// <param name="InFlight">Deliveries running now.</param>
public readonly record struct HandlerStats(long Handled, long Retried, long DeadLettered, long Duplicates, long Failed, long Cancelled, int InFlight);
