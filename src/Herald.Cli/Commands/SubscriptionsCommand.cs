using System.CommandLine;
using System.Globalization;
using Herald.Dashboard.Systems;
using Spectre.Console;

namespace Herald.Cli.Commands;

/// <summary><c>herald subscriptions</c>: checkpoints and lag per consumer group.</summary>
internal static class SubscriptionsCommand
{
    public static Command Create(SystemOptions systems)
    {
        var command = new Command("subscriptions", "Consumer groups: members, checkpoint, lag (events not yet read) and who reads them now.\nExample: herald subscriptions --sqlite herald.db");
        command.SetSystemAction(systems, async (parse, system, ct) =>
        {
            TopologyView topology = await system.GetTopologyAsync(ct).ConfigureAwait(false);
            var table = new Table().AddColumns("group", "members (pattern)", "checkpoint", "lag", "reader", "details");
            foreach (GroupView g in topology.Groups)
            {
                table.AddRow(
                    Markup.Escape(g.Name),
                    Markup.Escape(g.Members.Count == 0 ? "-" : string.Join(", ", g.Members.Select(m => $"{m.Name} ({m.Pattern})"))),
                    g.Checkpoint?.ToString(CultureInfo.InvariantCulture) ?? "-",
                    g.Depth.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(g.Owner ?? "-"),
                    Markup.Escape(string.Join(", ", g.Details.Select(d => $"{d.Key} {d.Value}"))));
            }

            Output.Console.Write(table);
            Output.Console.WriteLine($"{topology.Groups.Count} group(s)");
            return ExitCodes.Ok;
        });
        return command;
    }
}
