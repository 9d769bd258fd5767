using System.CommandLine;
using System.Globalization;
using Herald.Dashboard.Systems;
using Spectre.Console;

namespace Herald.Cli.Commands;

/// <summary><c>herald stats</c>: counts per topic, rates over the last minute, queue depths.</summary>
internal static class StatsCommand
{
    public static Command Create(SystemOptions systems)
    {
        var command = new Command("stats", "Events per topic, rates over the last minute, queue depths per group, dead letters.\nExample: herald stats --sqlite herald.db");
        command.SetSystemAction(systems, async (parse, system, ct) =>
        {
            TopologyView topology = await system.GetTopologyAsync(ct).ConfigureAwait(false);
            var dead = new Dictionary<string, int>(StringComparer.Ordinal); // counted from ids and topics: no envelope loaded
            await foreach ((string _, string topic) in system.ListDeadLetterIdsAsync(null, ct).ConfigureAwait(false))
            {
                dead[topic] = dead.GetValueOrDefault(topic) + 1;
            }

            var topics = new Table().AddColumns("topic", "events held", "last minute", "per second", "dead letters");
            foreach (TopicView t in topology.Topics)
            {
                topics.AddRow(
                    Markup.Escape(t.Name),
                    t.Count.ToString(CultureInfo.InvariantCulture),
                    ((long)Math.Round(t.RatePerSecond * 60)).ToString(CultureInfo.InvariantCulture),
                    t.RatePerSecond.ToString("0.##", CultureInfo.InvariantCulture),
                    dead.GetValueOrDefault(t.Name).ToString(CultureInfo.InvariantCulture));
            }

            var groups = new Table().AddColumns("group", "queue depth", "by topic");
            foreach (GroupView g in topology.Groups)
            {
                groups.AddRow(
                    Markup.Escape(g.Name),
                    g.Depth.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(string.Join(", ", g.DepthByTopic.Select(d => $"{d.Key} {d.Value}"))));
            }

            Output.Console.WriteLine(system.Name);
            Output.Console.Write(topics);
            Output.Console.Write(groups);
            Output.Console.WriteLine($"{dead.Values.Sum()} dead letter(s)");
            return ExitCodes.Ok;
        });
        return command;
    }
}
