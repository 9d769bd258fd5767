namespace Herald.Testing.Transports;

/// <summary>
/// What a transport promises, as the conformance suite checks it. A test of a promise the transport does not make is
/// reported as skipped with the reason; a promise it makes and breaks fails. Start from the defaults (what every
/// transport must do) and say more.
/// </summary>
public sealed record TransportFeatures
{
    /// <summary>
    /// Events outlive the process: an event published while no consumer of its group runs is delivered when one starts
    /// again, and a delivery left unfinished by a stop is delivered again after a restart. Default false.
    /// </summary>
    public bool Durable { get; init; }

    /// <summary>
    /// The inbox outlives the process: an event id a handler handled before a restart is skipped when it comes again (a
    /// redelivery after a lost acknowledgement, a republish). Default false.
    /// </summary>
    public bool DurableInbox { get; init; }

    /// <summary>
    /// A publish of an event id the transport stored recently (within its duplicate window) is stored once: the copy
    /// never reaches a consumer. Default false: the copy is delivered, and the inbox skips it.
    /// </summary>
    public bool DeduplicatesPublishes { get; init; }

    /// <summary>Consumers of one group compete (each event goes to one of them) while different groups each get a copy. Default true.</summary>
    public bool Groups { get; init; } = true;

    /// <summary>Events of one key are handled in publish order under concurrency, a retry included. Default true.</summary>
    public bool OrderedByKey { get; init; } = true;

    /// <summary>Delayed events (<see cref="PublishOptions.Delay"/>) are kept by the transport and survive a restart. Default false.</summary>
    public bool DurableDelay { get; init; }

    /// <summary>
    /// The overflow policies the transport honours; every other one must be refused when the consumer is made (a
    /// <see cref="NotSupportedException"/> naming it), never ignored. Default: <see cref="Overflow.Wait"/> only.
    /// </summary>
    public IReadOnlyList<Overflow> Overflows { get; init; } = [Overflow.Wait];

    /// <summary>
    /// A publish into a consumer's full queue waits for room (back-pressure, as in memory), so no backlog builds beyond
    /// the queue. Default false: the transport's log or broker queue holds the backlog, and the publish never waits.
    /// </summary>
    public bool PublishWaitsForConsumers { get; init; }

    /// <summary>How long the suite waits for something that should happen (a delivery, a dead letter). Default 30 s.</summary>
    public TimeSpan Patience { get; init; } = TimeSpan.FromSeconds(30);
}
