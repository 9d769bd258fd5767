namespace Herald.Tests.Support;

/// <summary>
/// Runs a script of tests/interop with Node.js, installing its packages (npm ci) first when they are missing: one
/// install at a time, whichever interop test (RabbitMQ, NATS) asks first, since both share the directory.
/// </summary>
public static class NodeInterop
{
    private static readonly SemaphoreSlim Installing = new(1, 1);

    public static async Task<string> RunAsync(string script, params string[] arguments)
    {
        string directory = Path.Combine(ExternalCommand.RepositoryRoot(), "tests", "interop");
        await Installing.WaitAsync();
        try
        {
            if (!Directory.Exists(Path.Combine(directory, "node_modules", "amqplib")) || !Directory.Exists(Path.Combine(directory, "node_modules", "nats")))
            {
                await ExternalCommand.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5), directory);
            }
        }
        finally
        {
            Installing.Release();
        }

        return await ExternalCommand.RunAsync("node", [script, .. arguments], TimeSpan.FromSeconds(60), directory);
    }
}
