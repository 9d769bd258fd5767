using Herald.Benchmarks.Systems;

namespace Herald.Benchmarks.Fanout;

/// <summary>The systems of the side-by-side run, and how many events each gets in a burst (the slow peers get fewer, so a run ends in seconds; events/s is a rate either way).</summary>
public static class SystemCatalog
{
    public static readonly (string Name, int BurstEvents, string Description)[] All =
    [
        ("herald-pull", 1_000_000, "Herald in memory, pull subscriptions (1024, Wait)"),
        ("herald-handlers", 1_000_000, "Herald handler subscriptions, default pipeline (8 steps), on a bare ServiceCollection (no logging provider)"),
        ("herald-handlers-host", 1_000_000, "Herald handler subscriptions, default pipeline, on Host.CreateApplicationBuilder with its default logging (information)"),
        ("herald-handlers-host-warn", 1_000_000, "Herald handler subscriptions, default pipeline, on Host.CreateApplicationBuilder with the console at warning (as the Wolverine row)"),
        ("channels-bounded", 1_000_000, "raw Channel<T> per subscriber, bounded 1024, Wait, default options, ReadAllAsync"),
        ("channels-bounded-fast", 1_000_000, "raw Channel<T> per subscriber, bounded 1024, Wait, SingleReader and SingleWriter, a WaitToReadAsync/TryRead loop: their fastest honest form"),
        ("channels-bounded-again", 1_000_000, "the same raw bounded channels again, in their own processes: an A/A control"),
        ("ring-bounded", 1_000_000, "Herald's lane queue raw, per subscriber, bounded 1024, Wait"),
        ("channels-unbounded", 1_000_000, "raw Channel<T> per subscriber, unbounded"),
        ("direct", 1_000_000, "direct inline call to the 3 subscribers"),
        ("mediator", 1_000_000, "Mediator 3.0.2 (source-generated) notifications, inline"),
        ("wolverine", 200_000, "Wolverine 6.62.0 local queues (separated handlers), on Host.CreateApplicationBuilder with the console at warning"),
        ("rebus", 50_000, "Rebus 8.9.5 in-memory transport"),
        ("masstransit", 50_000, "MassTransit 8.5.9 in-memory transport (9.x is commercial)"),
    ];

    public static IFanoutSystem Create(string name) => name switch
    {
        "herald-pull" => new HeraldPullSystem(),
        "herald-handlers" => new HeraldHandlerSystem(),
        "herald-handlers-host" => new HeraldHandlerSystem(HostSetup.DefaultHost),
        "herald-handlers-host-warn" => new HeraldHandlerSystem(HostSetup.HostConsoleWarning),
        "channels-bounded" => new ChannelSystem(bounded: true),
        "channels-bounded-fast" => new ChannelSystem(bounded: true, fastest: true),
        "channels-bounded-again" => new ChannelSystem(bounded: true),
        "ring-bounded" => new RingSystem(),
        "channels-unbounded" => new ChannelSystem(bounded: false),
        "direct" => new DirectSystem(),
        "mediator" => new MediatorSystem(),
        "wolverine" => new WolverineSystem(),
        "rebus" => new RebusSystem(),
        "masstransit" => new MassTransitSystem(),
        _ => throw new ArgumentException($"Unknown system '{name}'. Known: {string.Join(", ", All.Select(s => s.Name))}.", nameof(name)),
    };
}
