using System.CommandLine;
using Herald.Dashboard.Systems;

namespace Herald.Cli;

/// <summary>A Herald schema in PostgreSQL: <c>--postgres "Host=db;Database=app;Username=app"</c>, with the schema's name.</summary>
internal sealed class PostgresSystemKind : SystemKind
{
    public override Option<string?> Chooser { get; } = new("--postgres") { Description = "A PostgreSQL database with a Herald schema (an Npgsql connection string: \"Host=db;Database=app;Username=app;Password=...\").", Recursive = true, HelpName = "connection-string" };

    public Option<string> Schema { get; } = new("--schema") { Description = "The PostgreSQL schema Herald's tables are in (PostgresOptions.Schema).", Recursive = true, DefaultValueFactory = _ => "herald" };

    public override IEnumerable<Option> Options => [Chooser, Schema];

    public override string Example => "--postgres \"Host=db;Database=app;Username=app\"";

    public override Task<HeraldSystem> OpenAsync(string place, ParseResult parse, CancellationToken cancellationToken) =>
        PostgresSystem.OpenAsync(place, parse.GetValue(Schema)!, cancellationToken);
}
