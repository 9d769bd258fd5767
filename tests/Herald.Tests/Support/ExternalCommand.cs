using System.Diagnostics;

namespace Herald.Tests.Support;

/// <summary>Runs the tools the tests need (npm, node, rabbitmqctl, scripts of eng/) and finds the repository.</summary>
public static class ExternalCommand
{
    /// <summary>The repository root (where Herald.slnx is), above the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (Herald.slnx) was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs <paramref name="file"/> to its end within <paramref name="timeout"/> and returns its output; a non-zero exit throws with both outputs.</summary>
    public static async Task<string> RunAsync(string file, string[] arguments, TimeSpan timeout, string? directory = null, Action<ProcessStartInfo>? environment = null)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (directory is not null)
        {
            start.WorkingDirectory = directory;
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        environment?.Invoke(start);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}\n{await error}");
        }

        return (await output).Trim();
    }
}
