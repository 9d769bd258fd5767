using System.CommandLine;
using Herald.Cli;
using Herald.Dashboard.Systems;

namespace Herald.Tests.Cli;

/// <summary>A place of a new kind (a transport's view) adds its own option, and the commands open it unchanged.</summary>
public sealed class SystemKindTests
{
    /// <summary>Stands for a transport's view the command did not know: it says when it is opened, and with what.</summary>
    private sealed class FakeKind : SystemKind
    {
        public override Option<string?> Chooser { get; } = new("--fake") { Recursive = true };

        public Option<int> Tuning { get; } = new("--fake-tuning") { Recursive = true };

        public override IEnumerable<Option> Options => [Chooser, Tuning];

        public override string Example => "--fake place";

        public override Task<HeraldSystem> OpenAsync(string place, ParseResult parse, CancellationToken cancellationToken) =>
            throw new CliException($"opened fake '{place}' tuned {parse.GetValue(Tuning)}");
    }

    private static (Command Root, SystemOptions Systems) Root()
    {
        var systems = new SystemOptions([new SqliteSystemKind(), new FakeKind()]);
        var root = new Command("herald");
        systems.AddTo(root);
        return (root, systems);
    }

    [Fact]
    public async Task ANewKind_AddsItsOptions_AndIsOpenedWhenNamed()
    {
        (Command root, SystemOptions systems) = Root();

        ParseResult parse = root.Parse(["--fake", "somewhere", "--fake-tuning", "7"]);
        CliException opened = await Assert.ThrowsAsync<CliException>(() => systems.OpenAsync(parse, CancellationToken.None));

        Assert.Empty(parse.Errors);
        Assert.Equal("opened fake 'somewhere' tuned 7", opened.Message);
    }

    [Fact]
    public async Task NoKindNamed_OrTwo_IsAUsageErrorListingEveryKind()
    {
        (Command root, SystemOptions systems) = Root();

        CliException none = await Assert.ThrowsAsync<CliException>(() => systems.OpenAsync(root.Parse([]), CancellationToken.None));
        CliException both = await Assert.ThrowsAsync<CliException>(() => systems.OpenAsync(root.Parse(["--fake", "x", "--sqlite", "y.db"]), CancellationToken.None));

        Assert.Contains("--sqlite herald.db or --fake place", none.Message, StringComparison.Ordinal);
        Assert.Contains("not both --sqlite and --fake", both.Message, StringComparison.Ordinal);
    }
}
