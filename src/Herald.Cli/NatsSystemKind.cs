using System.CommandLine;
using Herald.Dashboard.Systems;

namespace Herald.Cli;

/// <summary>A NATS JetStream server: <c>--nats nats://host:4222</c>, with the stream and subject prefix Herald uses there.</summary>
internal sealed class NatsSystemKind : SystemKind
{
    public override Option<string?> Chooser { get; } = new("--nats") { Description = "A NATS server with JetStream (nats://user:password@host:4222).", Recursive = true, HelpName = "url" };

    public Option<string> Stream { get; } = new("--stream") { Description = "The JetStream stream Herald's events are in (NatsOptions.Stream).", Recursive = true, DefaultValueFactory = _ => "HERALD" };

    public Option<string> SubjectPrefix { get; } = new("--subject-prefix") { Description = "The first subject token of Herald's topics (NatsOptions.SubjectPrefix).", Recursive = true, DefaultValueFactory = _ => "herald" };

    public override IEnumerable<Option> Options => [Chooser, Stream, SubjectPrefix];

    public override string Example => "--nats nats://host:4222";

    public override Task<HeraldSystem> OpenAsync(string place, ParseResult parse, CancellationToken cancellationToken) =>
        NatsSystem.OpenAsync(place, parse.GetValue(Stream)!, parse.GetValue(SubjectPrefix)!, cancellationToken);
}
