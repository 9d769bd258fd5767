using System.Diagnostics;
using System.Text.RegularExpressions;
using Herald.Tests.Support;
using Xunit.Abstractions;

namespace Herald.Tests.Eng;

/// <summary>samples/RegistrationAot published with native AOT once (eng/aot-sample.sh), for the tests that run it.</summary>
public sealed class AotSamplePublish : IAsyncLifetime
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("herald-aot-");

    public string Binary => Path.Combine(_directory.FullName, "out", "RegistrationAot");

    public string PublishOutput { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        await ReleaseBuilds.Gate.WaitAsync();
        try
        {
            string root = ExternalCommand.RepositoryRoot();
            PublishOutput = await ExternalCommand.RunAsync(Path.Combine(root, "eng", "aot-sample.sh"), [Path.Combine(_directory.FullName, "out")], TimeSpan.FromMinutes(15));
        }
        finally
        {
            ReleaseBuilds.Gate.Release();
        }
    }

    public Task DisposeAsync()
    {
        _directory.Delete(recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The Registration scenario as a native AOT binary: published with no trimming or AOT warning, it runs the four
/// handlers on SQLite and on RabbitMQ and accounts for every event.
/// </summary>
/// <remarks>With a broker of its own: the tests run in <see cref="ReleaseBuildsCollection"/>, apart from the shared one.</remarks>
[Collection(ReleaseBuildsCollection.Name)]
public sealed partial class AotSampleTests(AotSamplePublish sample, RabbitMqBroker broker, ITestOutputHelper output) : IClassFixture<AotSamplePublish>, IClassFixture<RabbitMqBroker>
{
    [Fact]
    public void ThePublish_HasNoTrimmingOrAotWarning()
    {
        output.WriteLine(sample.PublishOutput);
        Assert.Empty(Warning().Matches(sample.PublishOutput).Select(m => m.Value)); // from Herald, Herald.Sqlite, Herald.RabbitMQ, or anything else
        Assert.True(File.Exists(sample.Binary), "the native binary was written");
    }

    [Fact]
    public async Task OnSqlite_EveryEventIsHandledOrDeadLettered()
    {
        using var db = new TempDatabase("aot.db");
        string run = await RunAsync(["2000", "--db", db.File]);
        Assert.Contains("No event lost", run, StringComparison.Ordinal);
        Assert.Contains("dead letters 2", run, StringComparison.Ordinal); // users ...007 and ...1007: refused for good
    }

    [Fact]
    public async Task OnRabbitMq_EveryEventIsHandledOrDeadLettered()
    {
        string run = await RunAsync(["2000", "--rabbitmq", broker.Uri]);
        Assert.Contains("No event lost", run, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"warning (IL\d{4}|AOT\w*)[^\n]*")]
    private static partial Regex Warning();

    private async Task<string> RunAsync(string[] arguments)
    {
        var start = new ProcessStartInfo(sample.Binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        string text = await stdout + await stderr;
        output.WriteLine(text);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {text}");
        return text;
    }
}
