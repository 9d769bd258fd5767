using System.CommandLine;
using Herald.Dashboard.Systems;

namespace Herald.Cli;

/// <summary>The options every command shares: which Herald system to talk to, one option per <see cref="SystemKind"/>.</summary>
internal sealed class SystemOptions(IReadOnlyList<SystemKind> kinds)
{
    public SystemOptions()
        : this(SystemKinds.All)
    {
    }

    public void AddTo(Command root)
    {
        foreach (Option option in kinds.SelectMany(k => k.Options))
        {
            root.Options.Add(option);
        }
    }

    /// <summary>Opens the system the command line names.</summary>
    /// <exception cref="CliException">None or several named, or the system cannot be opened.</exception>
    public Task<HeraldSystem> OpenAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        (SystemKind Kind, string Place)[] chosen = [.. kinds.Select(k => (Kind: k, Place: parse.GetValue(k.Chooser))).Where(c => c.Place is not null).Select(c => (c.Kind, c.Place!))];
        return chosen.Length switch
        {
            1 => chosen[0].Kind.OpenAsync(chosen[0].Place, parse, cancellationToken),
            0 => throw CliException.Usage($"Say which Herald to talk to: {string.Join(" or ", kinds.Select(k => k.Example))}."),
            _ => throw CliException.Usage(
                $"Give one of {string.Join(", ", kinds.Select(k => k.Chooser.Name))}, not {(chosen.Length == 2 ? "both" : "all of")} {string.Join(" and ", chosen.Select(c => c.Kind.Chooser.Name))}."),
        };
    }
}
