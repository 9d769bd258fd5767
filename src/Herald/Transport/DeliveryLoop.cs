namespace Herald.Transport;

/// <summary>Which consumer's delivery loop the current flow is (set once per loop by the handler host).</summary>
internal static class DeliveryLoop
{
    /// <summary>
    /// The consumer whose delivery loop this flow runs, or null. A publish from that flow into the same full queue
    /// would wait for room only that loop can make (Wolverine GH-3287); a queue can tell and spill instead.
    /// </summary>
    public static AsyncLocal<IConsumer?> Current { get; } = new();
}
