using System.Text.RegularExpressions;
using Herald.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Herald.BrowserTests;

/// <summary>
/// The Registration sample run once into a temporary herald.db (2,000 users: users 7 and 1,007 end in RiskCheck's
/// dead letters), then the real <c>herald dashboard --sqlite herald.db --allow-actions</c> on 127.0.0.1, a free port.
/// </summary>
public sealed partial class SampleDashboard : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "herald-dashboard-" + Guid.NewGuid().ToString("N"));
    private ChildProcess? _dashboard;

    public string Database => Path.Combine(_directory, "herald.db");

    public string Url { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        string configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        string sample = Path.Combine(ExternalCommand.RepositoryRoot(), "samples", "Registration", "bin", configuration, "net10.0", "Registration.dll");
        await ExternalCommand.RunAsync("dotnet", [sample, "2000", "--db", Database], TimeSpan.FromMinutes(3));

        _dashboard = HeraldCli.Start("dashboard", "--sqlite", Database, "--urls", "http://127.0.0.1:0", "--allow-actions");
        await _dashboard.WaitForLineAsync(l => l.StartsWith("dashboard on", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        Url = Address().Match(_dashboard.Lines.First(l => l.StartsWith("dashboard on", StringComparison.Ordinal))).Value;
    }

    public object? Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Database};Pooling=False");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public Task DisposeAsync()
    {
        _dashboard?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // the dashboard process may still hold the file for a moment: a temp folder left behind is harmless
        }

        return Task.CompletedTask;
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/herald/")]
    private static partial Regex Address();
}
