using Herald.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Herald;

/// <summary>Puts Herald on PostgreSQL: the bus's transport, the event store, the inbox and the dead letters in one schema that many processes share.</summary>
public static class PostgresHeraldExtensions
{
    /// <summary>
    /// Makes the bus publish to and consume from the PostgreSQL schema <paramref name="postgres"/> names (a bus without
    /// a host: the bus owns and closes the connections).
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static EventBusOptions UsePostgres(this EventBusOptions options, PostgresOptions postgres)
    {
        ArgumentNullException.ThrowIfNull(options);
        var database = new PostgresDatabase(postgres); // validates
        options.TransportFactory = context => new PostgresTransport(database, context, ownsDatabase: true);
        return options;
    }

    /// <summary>
    /// Runs Herald on a PostgreSQL database: the bus (durable delivery, at least once; members of a consumer group in
    /// any number of processes share its events), and in DI the <see cref="IEventStore"/> (<see cref="PostgresEventStore"/>),
    /// the <see cref="IInboxStore"/> (<see cref="PostgresInboxStore"/>) and the <see cref="IDeadLetterStore"/>
    /// (<see cref="PostgresDeadLetterStore"/>). A publish with <c>PublishOptions.Transaction</c> (an
    /// <c>NpgsqlTransaction</c>) is written in that transaction: the outbox.
    /// </summary>
    /// <param name="builder">The Herald builder.</param>
    /// <param name="connectionString">The Npgsql connection string, e.g. <c>Host=db;Database=app;Username=app;Password=…</c>.</param>
    /// <param name="configure">Further options (schema, claim lease, poll interval...).</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    /// <example><code>services.AddHerald(h => { h.UsePostgres("Host=db;Database=app;Username=app"); h.AddHandler&lt;SendWelcomeEmail, UserCreated&gt;(); });</code></example>
    public static HeraldBuilder UsePostgres(this HeraldBuilder builder, string connectionString, Action<PostgresOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new PostgresOptions { ConnectionString = connectionString };
        configure?.Invoke(options);
        options.TimeProvider = builder.Bus.TimeProvider == TimeProvider.System ? options.TimeProvider : builder.Bus.TimeProvider;
        var database = new PostgresDatabase(options); // validates
        builder.Bus.TransportFactory = context => new PostgresTransport(database, context, ownsDatabase: true); // as UseSqlite: the bus closes it
        builder.Services.AddSingleton(options);
        builder.Services.TryAddSingleton(_ => new PostgresEventStore(database, ownsDatabase: false));
        builder.Services.TryAddSingleton<IEventStore>(sp => sp.GetRequiredService<PostgresEventStore>());
        builder.Services.TryAddSingleton(_ => new PostgresInboxStore(database, ownsDatabase: false));
        builder.Services.AddSingleton<IInboxStore>(sp => sp.GetRequiredService<PostgresInboxStore>());
        builder.Services.TryAddSingleton(_ => new PostgresDeadLetterStore(database, ownsDatabase: false));
        builder.Services.AddSingleton<IDeadLetterStore>(sp => sp.GetRequiredService<PostgresDeadLetterStore>());
        return builder;
    }
}
