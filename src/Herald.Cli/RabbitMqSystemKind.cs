using System.CommandLine;
using Herald.Dashboard.Systems;

namespace Herald.Cli;

/// <summary>A RabbitMQ broker: <c>--rabbitmq amqp://host</c>, with the exchange, queue prefix and management API it needs.</summary>
internal sealed class RabbitMqSystemKind : SystemKind
{
    public override Option<string?> Chooser { get; } = new("--rabbitmq") { Description = "A RabbitMQ broker (amqp://user:password@host:5672/vhost).", Recursive = true, HelpName = "uri" };

    public Option<string> Exchange { get; } = new("--exchange") { Description = "The RabbitMQ topic exchange Herald publishes to.", Recursive = true, DefaultValueFactory = _ => "herald" };

    public Option<string> QueuePrefix { get; } = new("--queue-prefix") { Description = "The prefix of the application's queue names (RabbitMqOptions.QueuePrefix).", Recursive = true, DefaultValueFactory = _ => "herald." };

    public Option<string?> Management { get; } = new("--management") { Description = "The RabbitMQ management API (default: http://host:15672 of --rabbitmq, same credentials).", Recursive = true, HelpName = "url" };

    public override IEnumerable<Option> Options => [Chooser, Exchange, QueuePrefix, Management];

    public override string Example => "--rabbitmq amqp://host";

    public override Task<HeraldSystem> OpenAsync(string place, ParseResult parse, CancellationToken cancellationToken) =>
        RabbitMqSystem.OpenAsync(place, parse.GetValue(Exchange)!, parse.GetValue(QueuePrefix)!, parse.GetValue(Management), cancellationToken);
}
