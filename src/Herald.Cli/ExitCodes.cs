namespace Herald.Cli;

/// <summary>The herald command's exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>The operation failed: no such file or id, not a Herald database, the broker is unreachable.</summary>
    public const int Error = 1;

    /// <summary>The command line is wrong: an unknown option, a missing argument, an invalid topic, pattern or JSON.</summary>
    public const int Usage = 2;
}
