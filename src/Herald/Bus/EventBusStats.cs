namespace Herald;

/// <summary>A snapshot of a bus's counters.</summary>
/// <param name="Published">Events accepted by <c>PublishAsync</c> (including those a paused gate holds).</param>
/// <param name="Unrouted">Accepted events that matched no subscription.</param>
/// <param name="Gated">Events refused by a blocked gate (thrown at or discarded, as the gate says).</param>
/// <param name="Held">Events a paused gate holds now.</param>
/// <param name="GateReleaseFailures">Held events that could not be delivered when their gate resumed (logged, one by one).</param>
/// <param name="DroppedOnDispose">Held events still in a paused gate when the bus was disposed.</param>
/// <param name="Subscriptions">Live subscriptions.</param>
/// <param name="BackgroundTasks">Tasks the bus runs on its own (gate releases) that have not finished; 0 after dispose.</param>
public readonly record struct EventBusStats(
    long Published,
    long Unrouted,
    long Gated,
    int Held,
    long GateReleaseFailures,
    long DroppedOnDispose,
    int Subscriptions,
    int BackgroundTasks);
