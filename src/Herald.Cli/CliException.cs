namespace Herald.Cli;

/// <summary>A failure the command reports in one line and exits with <see cref="ExitCodes.Error"/> (or <see cref="ExitCodes.Usage"/>).</summary>
internal sealed class CliException(string message, Exception? inner = null, int exitCode = ExitCodes.Error) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;

    public static CliException Usage(string message) => new(message, null, ExitCodes.Usage);
}
