using System.CommandLine;
using System.Globalization;
using Herald.Dashboard;
using Herald.Dashboard.Systems;
using Spectre.Console;

namespace Herald.Cli.Commands;

/// <summary><c>herald dead-letters list|show &lt;id&gt;|redrive &lt;id&gt;|--all|purge</c></summary>
internal static class DeadLettersCommand
{
    public static Command Create(SystemOptions systems)
    {
        var command = new Command("dead-letters", """
            List, inspect, redrive and purge dead letters.
            Example: herald dead-letters list --topic 'user.*' --sqlite herald.db
            """);
        command.Subcommands.Add(List(systems));
        command.Subcommands.Add(Show(systems));
        command.Subcommands.Add(Redrive(systems));
        command.Subcommands.Add(Purge(systems));
        return command;
    }

    private static Option<string?> TopicOption() => new("--topic") { Description = "Only dead letters whose topic matches this pattern.", HelpName = "pattern" };

    private static Command List(SystemOptions systems)
    {
        var topic = TopicOption();
        var max = new Option<int>("--max") { Description = "The most to list.", DefaultValueFactory = _ => 100 };
        var command = new Command("list", "List dead letters, oldest first.\nExample: herald dead-letters list --topic 'user.*' --sqlite herald.db") { topic, max };
        command.SetSystemAction(systems, async (parse, system, ct) =>
        {
            IReadOnlyList<DeadLetter> letters = await system.ListDeadLettersAsync(CommandRunner.Pattern(parse.GetValue(topic)), parse.GetValue(max), ct).ConfigureAwait(false);
            var table = new Table().AddColumns("id", "time", "topic", "key", "consumer", "attempts", "reason");
            foreach (DeadLetter d in letters)
            {
                table.AddRow(
                    Markup.Escape(Output.Safe(d.Id)),
                    d.Time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    Markup.Escape(Output.Safe(d.Envelope.Type)),
                    Markup.Escape(Output.Safe(d.Envelope.Subject ?? "-")),
                    Markup.Escape(Output.Safe(d.Consumer)),
                    d.Attempts.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(Output.Safe(DashboardEndpoints.Preview($"{d.Reason}: {d.ExceptionMessage}", 60))));
            }

            Output.Console.Write(table);
            Output.Console.WriteLine($"{letters.Count} dead letter(s)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show(SystemOptions systems)
    {
        var id = new Argument<string>("id") { Description = "The dead letter's id (from list)." };
        var command = new Command("show", "Show one dead letter: why, where, the envelope and the payload.\nExample: herald dead-letters show 0193... --sqlite herald.db") { id };
        command.SetSystemAction(systems, async (parse, system, ct) =>
        {
            string wanted = parse.GetValue(id)!;
            DeadLetter d = await system.GetDeadLetterAsync(wanted, ct).ConfigureAwait(false)
                ?? throw new CliException($"No dead letter with id '{wanted}' in {system.Name}.");
            var grid = new Grid().AddColumn().AddColumn();
            void Row(string name, string? value) => grid.AddRow(name, Markup.Escape(Output.Safe(value ?? "-", keepLineBreaks: true)));
            Row("id", d.Id);
            Row("consumer", d.Consumer);
            Row("reason", d.Reason);
            Row("exception", d.ExceptionType);
            Row("message", d.ExceptionMessage);
            Row("attempts", d.Attempts.ToString(CultureInfo.InvariantCulture));
            Row("time", d.Time.ToString("O", CultureInfo.InvariantCulture));
            Row("event id", d.Envelope.Id);
            Row("topic", d.Envelope.Type);
            Row("key", d.Envelope.Subject);
            Row("source", d.Envelope.Source);
            Row("event time", d.Envelope.Time.ToString("O", CultureInfo.InvariantCulture));
            Row("trace id", DashboardEndpoints.TraceId(d.Envelope.TraceParent));
            Row("payload", DashboardEndpoints.PayloadText(d.Envelope));
            Output.Console.Write(grid);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Redrive(SystemOptions systems) => Bulk(
        systems,
        "redrive",
        """
        Send dead letters back to the consumer that failed them, as a first attempt.
        Example: herald dead-letters redrive --all --topic 'user.*' --yes --sqlite herald.db
        """,
        "Redrive {0} dead letter(s)?",
        "redriven",
        (system, id, ct) => system.RedriveAsync(id, ct),
        askForOne: false);

    private static Command Purge(SystemOptions systems) => Bulk(
        systems,
        "purge",
        """
        Delete dead letters for good (asks first unless --yes, for one as for all).
        Example: herald dead-letters purge --all --topic 'test.#' --yes --sqlite herald.db
        """,
        "Delete {0} dead letter(s) for good?",
        "purged",
        (system, id, ct) => system.PurgeAsync(id, ct),
        askForOne: true);

    /// <summary>A command acting on one dead letter by id (after asking, when <paramref name="askForOne"/>: it cannot be undone), or on all (matching --topic) after asking.</summary>
    private static Command Bulk(SystemOptions systems, string name, string description, string question, string done, Func<HeraldSystem, string, CancellationToken, Task<bool>> act, bool askForOne)
    {
        var id = new Argument<string?>("id") { Description = "One dead letter's id.", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Every dead letter (whose topic matches --topic)." };
        var topic = TopicOption();
        var yes = new Option<bool>("--yes") { Description = "Do not ask first." };
        var command = new Command(name, description) { id, all, topic, yes };
        command.SetSystemAction(systems, async (parse, system, ct) =>
        {
            string? one = parse.GetValue(id);
            if (one is null == !parse.GetValue(all))
            {
                throw CliException.Usage("Give one dead letter id, or --all (with --topic to narrow it).");
            }

            if (one is not null)
            {
                if (askForOne && !CommandRunner.Confirm(string.Format(System.Globalization.CultureInfo.InvariantCulture, question, 1), parse.GetValue(yes)))
                {
                    return ExitCodes.Error;
                }

                if (!await act(system, one, ct).ConfigureAwait(false))
                {
                    throw new CliException($"No dead letter with id '{one}' in {system.Name}.");
                }

                Output.Console.WriteLine($"{done} 1 dead letter(s): {one}");
                return ExitCodes.Ok;
            }

            // Counted, then acted on, a page of ids at a time: never every dead letter's envelope in memory at once.
            TopicPattern? pattern = CommandRunner.Pattern(parse.GetValue(topic));
            int total = 0;
            await foreach ((string _, string _) in system.ListDeadLetterIdsAsync(pattern, ct).ConfigureAwait(false))
            {
                total++;
            }

            if (total == 0)
            {
                Output.Console.WriteLine($"no dead letters to {name}");
                return ExitCodes.Ok;
            }

            if (!CommandRunner.Confirm(string.Format(System.Globalization.CultureInfo.InvariantCulture, question, total), parse.GetValue(yes)))
            {
                return ExitCodes.Error;
            }

            int count = await EachAsync(system.ListDeadLetterIdsAsync(pattern, ct), total, name, id => act(system, id, ct)).ConfigureAwait(false);
            Output.Console.WriteLine($"{done} {count} dead letter(s)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<int> EachAsync(IAsyncEnumerable<(string Id, string Topic)> letters, int total, string what, Func<string, Task<bool>> act)
    {
        // The ids acted on are collected first, a page at a time: acting while reading would move the reader's pages.
        var ids = new List<string>(total);
        await foreach ((string id, string _) in letters.ConfigureAwait(false))
        {
            ids.Add(id);
        }

        int done = 0;
        await Output.Console.Progress().AutoClear(true).StartAsync(async progress =>
        {
            ProgressTask task = progress.AddTask(what, maxValue: ids.Count);
            foreach (string id in ids)
            {
                done += await act(id).ConfigureAwait(false) ? 1 : 0;
                task.Increment(1);
            }
        }).ConfigureAwait(false);
        return done;
    }
}
