using System.CommandLine;
using Herald.Dashboard.Systems;

namespace Herald.Cli;

/// <summary>A Herald SQLite file: <c>--sqlite herald.db</c>.</summary>
internal sealed class SqliteSystemKind : SystemKind
{
    public override Option<string?> Chooser { get; } = new("--sqlite") { Description = "A Herald SQLite file (for example herald.db).", Recursive = true, HelpName = "file" };

    public override IEnumerable<Option> Options => [Chooser];

    public override string Example => "--sqlite herald.db";

    public override Task<HeraldSystem> OpenAsync(string place, ParseResult parse, CancellationToken cancellationToken) =>
        Task.FromResult<HeraldSystem>(SqliteSystem.Open(place));
}
