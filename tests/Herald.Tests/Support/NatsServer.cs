using System.Diagnostics;
using System.Globalization;

namespace Herald.Tests.Support;

/// <summary>
/// A real NATS server with JetStream (Debian's nats-server, installed by eng/install-nats.sh when missing) started as
/// this test run's own process on 127.0.0.1, on free ports, with its store in a temporary directory; stopped by its pid.
/// It can be killed (SIGKILL) and started again on the same port and store, for the fault tests.
/// </summary>
public sealed class NatsServer : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("herald-nats-").FullName;
    private Process? _server;

    public int Port { get; private set; }

    public int MonitorPort { get; private set; }

    public string Url => $"nats://127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        await ExternalCommand.RunAsync("bash", [Path.Combine(ExternalCommand.RepositoryRoot(), "eng", "install-nats.sh")], TimeSpan.FromMinutes(10));
        Port = LoopbackPort.Free();
        MonitorPort = LoopbackPort.Free();
        await StartAsync();
    }

    /// <summary>Starts the server (again), on the same port and store.</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("nats-server")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in new[] { "-js", "-a", "127.0.0.1", "-p", Text(Port), "-m", Text(MonitorPort), "-sd", Path.Combine(_directory, "store") })
        {
            start.ArgumentList.Add(argument);
        }

        _server = Process.Start(start) ?? throw new InvalidOperationException("nats-server did not start");
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        // Ready when the monitoring endpoint says JetStream is up (bounded; a server that died says so at once).
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        long deadline = Environment.TickCount64 + (long)StartTimeout.TotalMilliseconds;
        while (true)
        {
            if (_server.HasExited)
            {
                throw new InvalidOperationException($"nats-server exited with {_server.ExitCode} at start");
            }

            try
            {
                using HttpResponseMessage health = await http.GetAsync($"http://127.0.0.1:{MonitorPort}/healthz?js-enabled-only=true");
                if (health.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"nats-server was not ready within {StartTimeout.TotalSeconds} s");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL: the server dies at once, mid-write if it was writing; its store stays for <see cref="StartAsync"/>.</summary>
    public async Task KillAsync()
    {
        if (_server is { HasExited: false } server)
        {
            server.Kill();
            await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _server?.Dispose();
        _server = null;
    }

    /// <summary>SIGTERM and start again: a clean shutdown (the server writes its state), on the same port and store.</summary>
    public async Task RestartAsync()
    {
        if (_server is { HasExited: false } server)
        {
            await ExternalCommand.RunAsync("kill", ["-TERM", Text(server.Id)], TimeSpan.FromSeconds(10));
            await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            server.Dispose();
            _server = null;
        }

        await StartAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_server is { HasExited: false } server)
            {
                await ExternalCommand.RunAsync("kill", ["-TERM", Text(server.Id)], TimeSpan.FromSeconds(10));
                await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
        }
        catch (TimeoutException)
        {
            // killed below
        }
        finally
        {
            await KillAsync();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // a file still held: leave the temp directory
            }
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

}
