using System.CommandLine;
using Herald.Dashboard.Systems;

namespace Herald.Cli;

/// <summary>The options every command shares: which Herald system to talk to.</summary>
internal sealed class SystemOptions
{
    public Option<string?> Sqlite { get; } = new("--sqlite") { Description = "A Herald SQLite file (for example herald.db).", Recursive = true, HelpName = "file" };

    public Option<string?> RabbitMq { get; } = new("--rabbitmq") { Description = "A RabbitMQ broker (amqp://user:password@host:5672/vhost).", Recursive = true, HelpName = "uri" };

    public Option<string> Exchange { get; } = new("--exchange") { Description = "The RabbitMQ topic exchange Herald publishes to.", Recursive = true, DefaultValueFactory = _ => "herald" };

    public Option<string> QueuePrefix { get; } = new("--queue-prefix") { Description = "The prefix of the application's queue names (RabbitMqOptions.QueuePrefix).", Recursive = true, DefaultValueFactory = _ => "herald." };

    public Option<string?> Management { get; } = new("--management") { Description = "The RabbitMQ management API (default: http://host:15672 of --rabbitmq, same credentials).", Recursive = true, HelpName = "url" };

    public void AddTo(Command root)
    {
        root.Options.Add(Sqlite);
        root.Options.Add(RabbitMq);
        root.Options.Add(Exchange);
        root.Options.Add(QueuePrefix);
        root.Options.Add(Management);
    }

    /// <summary>Opens the system the command line names.</summary>
    /// <exception cref="CliException">Neither or both named, or the system cannot be opened.</exception>
    public async Task<HeraldSystem> OpenAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        string? sqlite = parse.GetValue(Sqlite);
        string? rabbit = parse.GetValue(RabbitMq);
        if (sqlite is null == rabbit is null)
        {
            throw CliException.Usage(sqlite is null
                ? "Say which Herald to talk to: --sqlite herald.db or --rabbitmq amqp://host."
                : "Give --sqlite or --rabbitmq, not both.");
        }

        return sqlite is not null
            ? SqliteSystem.Open(sqlite)
            : await RabbitMqSystem.OpenAsync(rabbit!, parse.GetValue(Exchange)!, parse.GetValue(QueuePrefix)!, parse.GetValue(Management), cancellationToken).ConfigureAwait(false);
    }
}
