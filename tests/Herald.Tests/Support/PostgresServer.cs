using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Npgsql;

namespace Herald.Tests.Support;

/// <summary>
/// A real PostgreSQL server (Debian's binaries, installed by eng/install-postgres.sh when missing): a cluster made with
/// <c>initdb</c> in a temporary directory and <c>postgres</c> started as this test run's own process on 127.0.0.1 and a
/// free port, stopped by its pid. As root, the cluster belongs to the <c>postgres</c> user (initdb refuses root) and the
/// server runs as it through <c>setpriv</c> (which execs: the pid is the server's). Each test makes its own database.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("herald-pg-").FullName;
    private string _bin = "";
    private Process? _server;
    private int _databases;

    public int Port { get; private set; }

    private string DataDirectory => Path.Combine(_directory, "data");

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>A connection string to the server's <c>postgres</c> database.</summary>
    public string AdminConnectionString => ConnectionString("postgres");

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=15;Command Timeout=60;Pooling=true";

    public async Task InitializeAsync()
    {
        _bin = (await ExternalCommand.RunAsync("bash", [Path.Combine(ExternalCommand.RepositoryRoot(), "eng", "install-postgres.sh")], TimeSpan.FromMinutes(10))).Trim().Split('\n')[^1].Trim();
        if (IsRoot)
        {
            await ExternalCommand.RunAsync("chown", ["-R", "postgres:postgres", _directory], TimeSpan.FromSeconds(30));
        }

        await RunAsUserAsync(Path.Combine(_bin, "initdb"), ["-D", DataDirectory, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale"], TimeSpan.FromMinutes(2));
        Port = LoopbackPort.Free();
        await StartAsync();
    }

    /// <summary>Starts the server (again) on the same port and data directory, and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        string[] arguments =
        [
            "-D", DataDirectory, "-c", "listen_addresses=127.0.0.1", "-c", $"port={Text(Port)}", "-c", $"unix_socket_directories={_directory}",
            "-c", "max_connections=300", "-c", "fsync=on", "-c", "logging_collector=off",
        ];
        ProcessStartInfo start = IsRoot
            ? new ProcessStartInfo("setpriv") { ArgumentList = { "--reuid=postgres", "--regid=postgres", "--init-groups", "--", Path.Combine(_bin, "postgres") } }
            : new ProcessStartInfo(Path.Combine(_bin, "postgres"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        _server = Process.Start(start) ?? throw new InvalidOperationException("postgres did not start");
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        long deadline = Environment.TickCount64 + (long)StartTimeout.TotalMilliseconds;
        while (true)
        {
            if (_server.HasExited)
            {
                throw new InvalidOperationException($"postgres exited with {_server.ExitCode} at start");
            }

            try
            {
                await using var connection = new NpgsqlConnection(AdminConnectionString + ";Pooling=false");
                await connection.OpenAsync();
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or PostgresException or SocketException or TimeoutException)
            {
                // starting, or not listening yet
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"postgres was not ready within {StartTimeout.TotalSeconds} s");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Makes a new empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "t")
    {
        string name = $"{prefix}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..30].ToLowerInvariant();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>SIGKILL the postmaster: the server dies at once; its data directory stays for <see cref="StartAsync"/> (crash recovery).</summary>
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

    public async Task DisposeAsync()
    {
        try
        {
            if (_server is { HasExited: false } server)
            {
                // SIGINT: PostgreSQL's fast shutdown (sessions rolled back, a clean checkpoint).
                await ExternalCommand.RunAsync("kill", ["-INT", Text(server.Id)], TimeSpan.FromSeconds(10));
                await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
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
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // a file still held: leave the temp directory
            }
        }
    }

    private async Task RunAsUserAsync(string file, string[] arguments, TimeSpan timeout)
    {
        if (IsRoot)
        {
            await ExternalCommand.RunAsync("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", file, .. arguments], timeout, directory: _directory);
        }
        else
        {
            await ExternalCommand.RunAsync(file, arguments, timeout, directory: _directory);
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

}
