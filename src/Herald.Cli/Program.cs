// herald: operate a Herald system from the command line. Exit codes: 0 done, 1 the operation failed, 2 bad usage.
using System.CommandLine;
using Herald.Cli;
using Herald.Cli.Commands;

var systems = new SystemOptions();
// A named root rather than RootCommand (which takes the entry assembly's name, Herald.Cli): help says "herald".
var root = new Command("herald", """
    herald: publish, tail, inspect and repair a Herald system (a SQLite file or a RabbitMQ broker), or open its dashboard.
    Exit codes: 0 done, 1 the operation failed, 2 bad usage.
    Example: herald tail '#' --from start --sqlite herald.db
    """);
root.Options.Add(new System.CommandLine.Help.HelpOption());
root.Options.Add(new VersionOption());
systems.AddTo(root);
root.Subcommands.Add(PublishCommand.Create(systems));
root.Subcommands.Add(TailCommand.Create(systems));
root.Subcommands.Add(DeadLettersCommand.Create(systems));
root.Subcommands.Add(StreamsCommand.Create(systems));
root.Subcommands.Add(SubscriptionsCommand.Create(systems));
root.Subcommands.Add(StatsCommand.Create(systems));
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(CheckSettingsCommand.Create());
root.Subcommands.Add(DashboardCommand.Create(systems));

ParseResult parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (System.CommandLine.Parsing.ParseError error in parse.Errors)
    {
        Console.Error.WriteLine($"herald: {error.Message}");
    }

    Console.Error.WriteLine("See herald --help (or herald <command> --help).");
    return ExitCodes.Usage;
}

// SIGTERM (a service manager, `timeout`, `kill`) stops a tail or a dashboard as Ctrl+C does: exit 0, not 143.
using var terminated = new CancellationTokenSource();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    terminated.Cancel();
});
return await parse.InvokeAsync(cancellationToken: terminated.Token).ConfigureAwait(false);
