using System.Diagnostics;

namespace Herald.Tests.Support;

/// <summary>
/// A real RabbitMQ (Debian's rabbitmq-server, installed by eng/install-rabbitmq.sh when missing) started as this test
/// run's own process on 127.0.0.1, on free ports, with its data in a temporary directory; stopped by its pid file.
/// </summary>
public sealed class RabbitMqBroker : IAsyncLifetime
{
    private const string Server = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private const string Control = "/usr/lib/rabbitmq/bin/rabbitmqctl";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    private readonly string _directory = Directory.CreateTempSubdirectory("herald-rabbitmq-").FullName;
    private readonly string _node = $"herald{Guid.NewGuid():N}"[..18] + "@localhost";
    private Process? _server;

    public int Port { get; private set; }

    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    /// <summary>The management plugin's HTTP API (enabled for the herald command's queue listing), on loopback.</summary>
    public int ManagementPort { get; private set; }

    public string ManagementUrl => $"http://127.0.0.1:{ManagementPort}";

    private string PidFile => Path.Combine(_directory, "rabbit.pid");

    public async Task InitializeAsync()
    {
        await ExternalCommand.RunAsync("bash", [Path.Combine(ExternalCommand.RepositoryRoot(), "eng", "install-rabbitmq.sh")], TimeSpan.FromMinutes(10));
        Port = LoopbackPort.Free();
        int distribution = LoopbackPort.Free();
        ManagementPort = LoopbackPort.Free();
        File.WriteAllText(Path.Combine(_directory, "rabbitmq-env.conf"), string.Empty);
        File.WriteAllText(Path.Combine(_directory, "enabled_plugins"), "[rabbitmq_management].");
        File.WriteAllText(Path.Combine(_directory, "rabbitmq.conf"), $"loopback_users = none\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {ManagementPort}\n");
        var start = new ProcessStartInfo(Server) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        Environment(start, distribution);
        _server = Process.Start(start) ?? throw new InvalidOperationException("rabbitmq-server did not start");
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        await ControlAsync(["wait", PidFile, "--timeout", "110"], StartTimeout);
        await ControlAsync(["await_startup", "--timeout", "110"], StartTimeout);
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_server is { HasExited: false })
            {
                await ControlAsync(["stop", PidFile], TimeSpan.FromSeconds(60));
                await _server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            if (_server is { HasExited: false })
            {
                _server.Kill(entireProcessTree: true);
            }

            _server?.Dispose();
            await StopEpmdAsync();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // a file still held by a dying Erlang process: leave the temp directory
            }
        }
    }

    /// <summary>Stops the Erlang port mapper the broker started, unless other nodes still use it (then epmd refuses).</summary>
    private static async Task StopEpmdAsync()
    {
        try
        {
            await ExternalCommand.RunAsync("epmd", ["-kill"], TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            // not running, not on the path, or still in use by another node: leave it
        }
    }

    /// <summary>Runs rabbitmqctl against this node (for tests that stop and start the broker's app).</summary>
    public Task ControlAsync(string[] arguments, TimeSpan timeout) =>
        ExternalCommand.RunAsync(Control, ["-n", _node, .. arguments], timeout, environment: Environment);


    private void Environment(ProcessStartInfo start) => Environment(start, distribution: 0);

    private void Environment(ProcessStartInfo start, int distribution)
    {
        string erlArgs = "-kernel inet_dist_use_interface {127,0,0,1}";
        start.Environment["HOME"] = _directory; // the Erlang cookie lives here, for the server and rabbitmqctl alike
        start.Environment["RABBITMQ_NODENAME"] = _node;
        start.Environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        start.Environment["RABBITMQ_NODE_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (distribution > 0)
        {
            start.Environment["RABBITMQ_DIST_PORT"] = distribution.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        start.Environment["RABBITMQ_BASE"] = _directory;
        start.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia");
        start.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log");
        start.Environment["RABBITMQ_PID_FILE"] = PidFile;
        start.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(_directory, "rabbitmq");
        start.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins");
        start.Environment["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(_directory, "rabbitmq-env.conf");
        start.Environment["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        start.Environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = erlArgs;
        start.Environment["RABBITMQ_CTL_ERL_ARGS"] = erlArgs;
    }
}
