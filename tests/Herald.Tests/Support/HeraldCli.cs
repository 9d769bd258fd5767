using System.Diagnostics;

namespace Herald.Tests.Support;

/// <summary>Runs the real <c>herald</c> command (src/Herald.Cli, built with the tests) as a process, stdin closed (no terminal).</summary>
public static class HeraldCli
{
    /// <summary>The command's entry assembly, built in the tests' configuration.</summary>
    public static string Dll
    {
        get
        {
            string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            string dll = Path.Combine(ExternalCommand.RepositoryRoot(), "src", "Herald.Cli", "bin", configuration, "net10.0", "Herald.Cli.dll");
            Assert.True(File.Exists(dll), $"the herald command is not built at {dll}");
            return dll;
        }
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(Dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("herald did not start");
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>Starts a long-running command (tail, dashboard); dispose kills it.</summary>
    public static ChildProcess Start(params string[] args) => new(Dll, args);

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
    }
}
