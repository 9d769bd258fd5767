namespace Herald;

/// <summary>A snapshot of a bus's counters.</summary>
/// <param name="Published">Events accepted by <c>PublishAsync</c> (including those a paused gate holds).</param>
/// <param name="Unrouted">Accepted events that matched no subscription.</param>
/// <param name="Gated">Events refused by a blocked gate (thrown at or discarded, as the gate says).</param>
/// <param name="Held">Events a paused gate holds now.</param>
/// <param name="GateReleaseFailures">Held events that could not be delivered when their gate resumed (logged, one by one).</param>
/// <param name="DroppedOnDispose">Events held by a paused gate or waiting for their delay when the bus was disposed.</param>
/// <param name="Subscriptions">Live subscriptions.</param>
/// <param name="BackgroundTasks">Tasks the bus runs on its own (gate releases, delayed releases) that have not finished; 0 after dispose.</param>
/// <param name="Delayed">Events published with a delay that are not due yet.</param>
/// <param name="DelayedFailures">Delayed events that could not be delivered when due (logged one by one).</param>
public readonly record struct EventBusStats(
    long Published,
    long Unrouted,
    long Gated,
    int Held,
    long GateReleaseFailures,
    long DroppedOnDispose,
    int Subscriptions,
    int BackgroundTasks,
    int Delayed = 0,
    long DelayedFailures = 0);
