using Herald.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Herald;

/// <summary>Puts Herald on SQLite: the bus's transport, the event store, the inbox and the dead letters in one file.</summary>
public static class SqliteHeraldExtensions
{
    /// <summary>
    /// Makes the bus durable on the SQLite file <paramref name="sqlite"/> names: a publish completes after the event is
    /// committed; consumer groups read the log from their checkpoints; delayed events are stored. The bus owns the
    /// file's writer and stops it when disposed.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static EventBusOptions UseSqlite(this EventBusOptions options, SqliteOptions sqlite)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sqlite);
        sqlite.Validate();
        options.TransportFactory = context => new SqliteTransport(new SqliteDatabase(sqlite) { Logger = context.Logger }, context, ownsDatabase: true);
        return options;
    }

    /// <summary>
    /// Runs Herald on one SQLite file (WAL): the bus (durable delivery, at least once), and in DI the
    /// <see cref="IEventStore"/> (<see cref="SqliteEventStore"/>), the <see cref="IInboxStore"/>
    /// (<see cref="SqliteInboxStore"/>), the <see cref="IDeadLetterStore"/> (<see cref="SqliteDeadLetterStore"/>) and the
    /// file's <see cref="SqliteConsumerGroups"/>.
    /// </summary>
    /// <param name="builder">The Herald builder.</param>
    /// <param name="connectionString">E.g. <c>Data Source=herald.db</c>.</param>
    /// <param name="configure">Further options (synchronous mode, poll interval, group lease...).</param>
    /// <example><code>services.AddHerald(h => { h.UseSqlite("Data Source=herald.db"); h.AddHandler&lt;SendWelcomeEmail, UserCreated&gt;(); });</code></example>
    public static HeraldBuilder UseSqlite(this HeraldBuilder builder, string connectionString, Action<SqliteOptions>? configure = null)
    {
        SqliteOptions options = Options(builder, connectionString, configure);

        var database = new SqliteDatabase(options);
        builder.Bus.TransportFactory = context =>
        {
            database.Logger = context.Logger;
            return new SqliteTransport(database, context, ownsDatabase: true);
        };

        builder.Services.AddSingleton(options);
        builder.Services.TryAddSingleton(_ => new SqliteEventStore(database, ownsDatabase: false));
        builder.Services.TryAddSingleton<IEventStore>(sp => sp.GetRequiredService<SqliteEventStore>());
        builder.Services.TryAddSingleton(_ => new SqliteInboxStore(database));
        builder.Services.AddSingleton<IInboxStore>(sp => sp.GetRequiredService<SqliteInboxStore>());
        builder.Services.TryAddSingleton(_ => new SqliteDeadLetterStore(database));
        builder.Services.TryAddSingleton(_ => new SqliteConsumerGroups(database));
        builder.Services.AddSingleton<IDeadLetterStore>(sp => sp.GetRequiredService<SqliteDeadLetterStore>());
        return builder;
    }

    /// <summary>
    /// Keeps the inbox (the event ids each handler has handled) in a SQLite file, whatever the transport: on a broker
    /// (RabbitMQ), an event the broker delivers again after a restart or a lost acknowledgement is then skipped instead
    /// of applied twice; the default in-memory inbox forgets at every restart. The file is this machine's: consumers of one
    /// group on several machines each have their own, so a redelivery to another machine is not recognised (a shared
    /// database, PostgreSQL, is what closes that). Costs one insert per handled event, in group commits.
    /// </summary>
    /// <param name="builder">The Herald builder.</param>
    /// <param name="connectionString">E.g. <c>Data Source=inbox.db</c>.</param>
    /// <param name="configure">Further options (synchronous mode, retention of inbox entries...).</param>
    /// <example><code>services.AddHerald(h => { h.UseRabbitMQ("amqp://127.0.0.1:5672"); h.UseSqliteInbox("Data Source=inbox.db"); });</code></example>
    public static HeraldBuilder UseSqliteInbox(this HeraldBuilder builder, string connectionString, Action<SqliteOptions>? configure = null)
    {
        SqliteOptions options = Options(builder, connectionString, configure);
        builder.Services.AddSingleton(_ => new SqliteInboxStore(options)); // the container disposes it, closing the file
        builder.Services.AddSingleton<IInboxStore>(sp => sp.GetRequiredService<SqliteInboxStore>());
        return builder;
    }

    /// <summary>The options for <paramref name="connectionString"/>, configured, validated, on the bus's clock when the bus has a clock of its own.</summary>
    private static SqliteOptions Options(HeraldBuilder builder, string connectionString, Action<SqliteOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new SqliteOptions { ConnectionString = connectionString };
        configure?.Invoke(options);
        options.Validate();
        options.TimeProvider = builder.Bus.TimeProvider == TimeProvider.System ? options.TimeProvider : builder.Bus.TimeProvider;
        return options;
    }
}
