using System.CommandLine;
using System.Globalization;
using System.Text;
using Herald.Dashboard;
using Herald.Dashboard.Systems;
using Spectre.Console;

namespace Herald.Cli.Commands;

/// <summary><c>herald streams list|read &lt;stream&gt;</c></summary>
internal static class StreamsCommand
{
    public static Command Create(SystemOptions systems)
    {
        var command = new Command("streams", "The event store's streams.\nExample: herald streams read order-42 --sqlite herald.db");
        var max = new Option<int>("--max") { Description = "The most to show.", DefaultValueFactory = _ => 100 };
        var list = new Command("list", "List streams with their versions.\nExample: herald streams list --sqlite herald.db") { max };
        list.SetSystemAction(systems, async (parse, system, ct) =>
        {
            IReadOnlyList<StreamView> streams = await system.ListStreamsAsync(parse.GetValue(max), ct).ConfigureAwait(false);
            var table = new Table().AddColumns("stream", "version", "state");
            foreach (StreamView s in streams)
            {
                table.AddRow(Markup.Escape(s.Id), s.Version.ToString(CultureInfo.InvariantCulture), s.Deleted ? "deleted" : "live");
            }

            Output.Console.Write(table);
            Output.Console.WriteLine($"{streams.Count} stream(s)");
            return ExitCodes.Ok;
        });

        var stream = new Argument<string>("stream") { Description = "The stream id." };
        var from = new Option<long>("--from") { Description = "The first version to read.", DefaultValueFactory = _ => 0 };
        var readMax = new Option<int>("--max") { Description = "The most events to read.", DefaultValueFactory = _ => 100 };
        var json = new Option<bool>("--json") { Description = "One CloudEvent (structured JSON) per line." };
        var read = new Command("read", "Read a stream's events in order.\nExample: herald streams read order-42 --from 0 --sqlite herald.db") { stream, from, readMax, json };
        read.SetSystemAction(systems, async (parse, system, ct) =>
        {
            string id = parse.GetValue(stream)!;
            IReadOnlyList<RecordedEvent> events = await system.ReadStreamAsync(id, parse.GetValue(from), parse.GetValue(readMax), ct).ConfigureAwait(false);
            if (events.Count == 0 && (await system.ListStreamsAsync(int.MaxValue, ct).ConfigureAwait(false)).All(s => s.Id != id))
            {
                throw new CliException($"No stream '{id}' in {system.Name}.");
            }

            var formatter = new CloudEventJsonFormatter(new SystemTextJsonEventSerializer());
            var table = new Table().AddColumns("version", "position", "time", "type", "id", "payload");
            foreach (RecordedEvent e in events)
            {
                if (parse.GetValue(json))
                {
                    Console.Out.WriteLine(Encoding.UTF8.GetString(formatter.Encode(e.Envelope)));
                    continue;
                }

                table.AddRow(
                    e.Version.ToString(CultureInfo.InvariantCulture),
                    e.Position.ToString(CultureInfo.InvariantCulture),
                    e.Envelope.Time.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),
                    Markup.Escape(e.Envelope.Type),
                    Markup.Escape(e.Envelope.Id),
                    Markup.Escape(DashboardEndpoints.Preview(DashboardEndpoints.PayloadText(e.Envelope), 80)));
            }

            if (!parse.GetValue(json))
            {
                Output.Console.Write(table);
                Output.Console.WriteLine($"{events.Count} event(s) in {id}");
            }

            return ExitCodes.Ok;
        });
        command.Subcommands.Add(list);
        command.Subcommands.Add(read);
        return command;
    }
}
