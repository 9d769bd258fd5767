using System.Collections.Concurrent;
using System.Diagnostics;

namespace Herald.Tests.Support;

/// <summary>A test child process from tests/, its stdout collected line by line.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    public ChildProcess(string project, params string[] args)
    {
        string dll = project.EndsWith(".dll", StringComparison.Ordinal) ? project : Path.Combine(
            AppContext.BaseDirectory.Replace($"{Path.DirectorySeparatorChar}Herald.Tests{Path.DirectorySeparatorChar}", $"{Path.DirectorySeparatorChar}{project}{Path.DirectorySeparatorChar}", StringComparison.Ordinal),
            project + ".dll");
        Assert.True(File.Exists(dll), $"the child is not built at {dll}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                _lines.Enqueue(line);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                _lines.Enqueue("ERR " + line);
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public IReadOnlyCollection<string> Lines => _lines;

    public async Task WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        DateTimeOffset deadline = DateTimeOffset.UtcNow + timeout;
        while (!_lines.Any(match))
        {
            Assert.False(_process.HasExited, $"the child exited:\n{string.Join('\n', _lines.TakeLast(20))}");
            Assert.True(DateTimeOffset.UtcNow < deadline, $"the child did not print the line in time:\n{string.Join('\n', _lines.TakeLast(20))}");
            await Task.Delay(10);
        }
    }

    public void Kill() => _process.Kill(); // SIGKILL on Unix

    /// <summary>Asks the child to stop as a service manager would (SIGTERM).</summary>
    public Task TerminateAsync() => ExternalCommand.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));

    public int ExitCode => _process.HasExited ? _process.ExitCode : -1;

    public async Task ExitedAsync(TimeSpan? timeout = null)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
