using Herald.InMemory;

namespace Herald.Testing.Faults;

/// <summary>Puts a <see cref="FaultyTransport"/> around the bus's transport.</summary>
public static class FaultInjectionExtensions
{
    /// <summary>
    /// Wraps the transport configured so far (the in-memory one when none is) in a <see cref="FaultyTransport"/>
    /// following <paramref name="plan"/>. Call it after <c>UseSqlite</c>/<c>UseRabbitMQ</c>.
    /// </summary>
    /// <param name="builder">The Herald builder.</param>
    /// <param name="plan">Which faults, how often, from which seed.</param>
    public static HeraldBuilder InjectFaults(this HeraldBuilder builder, FaultPlan plan)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(plan);
        plan.Validate();
        Func<Herald.Transport.TransportContext, Herald.Transport.ITransport>? inner = builder.Bus.TransportFactory;
        builder.Bus.TransportFactory = context => new FaultyTransport(inner?.Invoke(context) ?? new InMemoryTransport(context), plan);
        return builder;
    }
}
