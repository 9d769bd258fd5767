using System.CommandLine;
using System.Globalization;
using System.Text;
using Herald.Dashboard;
using Herald.Dashboard.Systems;

namespace Herald.Cli.Commands;

/// <summary><c>herald tail '&lt;pattern&gt;' [--from start|now|&lt;position&gt;] [--json] [--max n]</c></summary>
internal static class TailCommand
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    public static Command Create(SystemOptions systems)
    {
        var pattern = new Argument<string>("pattern") { Description = "Which topics: user.created, user.*, order.# ('#' for all).", DefaultValueFactory = _ => "#" };
        var from = new Option<string>("--from") { Description = "Where to start: start (the oldest event the file holds), now, or a position.", DefaultValueFactory = _ => "now", HelpName = "start|now|position" };
        var json = new Option<bool>("--json") { Description = "One CloudEvent (structured JSON) per line." };
        var max = new Option<int?>("--max") { Description = "Stop after this many events.", HelpName = "n" };
        var command = new Command("tail", """
            Stream events as they arrive, one line each: time, position, topic, key, id, payload. Ctrl+C stops.
            Example: herald tail 'user.*' --from start --sqlite herald.db
            """)
        {
            pattern, from, json, max,
        };
        command.SetSystemAction(systems, async (parse, system, ct) =>
        {
            TopicPattern? filter = CommandRunner.Pattern(parse.GetValue(pattern));
            long position = await StartAsync(parse.GetValue(from)!, system, ct).ConfigureAwait(false);
            int? limit = parse.GetValue(max);
            bool asJson = parse.GetValue(json);
            var formatter = new CloudEventJsonFormatter(new SystemTextJsonEventSerializer());
            await Console.Error.WriteLineAsync($"tailing '{filter?.Value ?? "#"}' on {system.Name} after #{position} (Ctrl+C stops)").ConfigureAwait(false);
            int shown = 0;
            while (limit is null || shown < limit)
            {
                IReadOnlyList<ObservedEvent> events = await system.ReadEventsAsync(position, 500, filter, ct).ConfigureAwait(false);
                foreach (ObservedEvent e in events)
                {
                    position = e.Position;
                    // A large event is listed as a preview: --json prints it whole, read on its own.
                    Envelope whole = asJson && e.IsPreview ? (await system.GetEventAsync(e.Envelope.Id, ct).ConfigureAwait(false))?.Event.Envelope ?? e.Envelope : e.Envelope;
                    Console.Out.WriteLine(asJson ? Encoding.UTF8.GetString(formatter.Encode(whole)) : Line(e));
                    if (limit is not null && ++shown >= limit)
                    {
                        break;
                    }
                }

                if (events.Count == 0)
                {
                    await Console.Out.FlushAsync(ct).ConfigureAwait(false);
                    await Task.Delay(Poll, ct).ConfigureAwait(false);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    internal static string Line(ObservedEvent e) => string.Join(
        "  ",
        e.Envelope.Time.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture),
        "#" + e.Position.ToString(CultureInfo.InvariantCulture),
        e.Envelope.Type,
        Output.Safe(e.Envelope.Subject ?? "-"),
        Output.Safe(e.Envelope.Id),
        Output.Safe(DashboardEndpoints.Preview(DashboardEndpoints.PayloadText(e.Envelope).ReplaceLineEndings(" "), 80)));

    private static async Task<long> StartAsync(string from, HeraldSystem system, CancellationToken cancellationToken)
    {
        switch (from)
        {
            case "now":
                return await system.GetHeadAsync(cancellationToken).ConfigureAwait(false);
            case "start":
                return system.HasLog
                    ? 0
                    : throw CliException.Usage($"{system.Name} keeps no log to start from: --from start works on a SQLite file or a NATS stream; use --from now.");
            default:
                if (long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out long position))
                {
                    return system.HasLog
                        ? Math.Max(0, position - 1)
                        : throw CliException.Usage($"{system.Name} keeps no log: --from <position> works on a SQLite file or a NATS stream; use --from now.");
                }

                throw CliException.Usage($"--from takes start, now or a position (a whole number), not '{from}'.");
        }
    }
}
