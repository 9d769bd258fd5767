using System.CommandLine;
using Herald.Dashboard.Systems;

namespace Herald.Cli;

/// <summary>Runs a command's body against the named system and turns failures into one line on standard error and an exit code.</summary>
internal static class CommandRunner
{
    public static void SetSystemAction(this Command command, SystemOptions systems, Func<ParseResult, HeraldSystem, CancellationToken, Task<int>> body) =>
        command.SetAction((parse, ct) => RunAsync(async () =>
        {
            HeraldSystem system = await systems.OpenAsync(parse, ct).ConfigureAwait(false);
            await using (system.ConfigureAwait(false))
            {
                return await body(parse, system, ct).ConfigureAwait(false);
            }
        }, ct));

    public static async Task<int> RunAsync(Func<Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (CliException ex)
        {
            Output.Error(ex.Message);
            return ex.ExitCode;
        }
        catch (NotSupportedException ex)
        {
            Output.Error(ex.Message);
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Ok; // Ctrl+C ends a tail or a dashboard: that is how they stop
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or TimeoutException or HttpRequestException
            or Microsoft.Data.Sqlite.SqliteException or global::RabbitMQ.Client.Exceptions.BrokerUnreachableException or Herald.RabbitMQ.BrokerPublishException)
        {
            Output.Error($"{ex.GetType().Name}: {ex.Message}");
            return ExitCodes.Error;
        }
    }

    /// <summary>Parses a topic pattern argument; a bad one is a usage error naming the rule.</summary>
    public static TopicPattern? Pattern(string? pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern))
        {
            return null;
        }

        return TopicPattern.TryParse(pattern, out TopicPattern? parsed)
            ? parsed
            : throw CliException.Usage($"'{pattern}' is not a topic pattern: segments of letters, digits, '-' and '_' separated by '.', '*' for one segment, '#' for the rest (for example user.* or order.#).");
    }

    /// <summary>Asks before a destructive action; without a terminal, only --yes goes ahead.</summary>
    public static bool Confirm(string question, bool yes)
    {
        if (yes)
        {
            return true;
        }

        if (Console.IsInputRedirected)
        {
            throw CliException.Usage($"{question} Not asked without a terminal: add --yes to go ahead.");
        }

        return Spectre.Console.AnsiConsoleExtensions.Confirm(Output.Console, question, defaultValue: false);
    }
}
