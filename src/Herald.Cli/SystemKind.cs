using System.CommandLine;
using Herald.Dashboard.Systems;

namespace Herald.Cli;

/// <summary>
/// One kind of place the command can talk to (a SQLite file, a RabbitMQ broker): the options that name and tune it, and
/// how to open its view. Each kind adds its own options, so a new transport's view adds <c>--nats</c> or
/// <c>--postgres</c> by being listed in <see cref="SystemKinds"/>, without touching the commands or their option list.
/// </summary>
internal abstract class SystemKind
{
    /// <summary>The option that names a place of this kind (<c>--sqlite</c>), for messages.</summary>
    public abstract Option<string?> Chooser { get; }

    /// <summary>Every option of this kind: <see cref="Chooser"/> first, then the ones that tune it.</summary>
    public abstract IEnumerable<Option> Options { get; }

    /// <summary>What the chooser's value looks like, for the usage message (<c>--sqlite herald.db</c>).</summary>
    public abstract string Example { get; }

    /// <summary>Opens the view of the place the command line names with <see cref="Chooser"/>.</summary>
    /// <exception cref="CliException">The place cannot be opened; the message says why.</exception>
    public abstract Task<HeraldSystem> OpenAsync(string place, ParseResult parse, CancellationToken cancellationToken);
}
