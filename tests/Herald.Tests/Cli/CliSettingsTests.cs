using Herald.Tests.Support;

namespace Herald.Tests.Cli;

/// <summary>The real <c>herald check-settings</c> against settings files: what it accepts, and each kind of mistake with its exit code.</summary>
public sealed class CliSettingsTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("herald-settings-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task CheckSettings_GoodFile_SaysWhatItChecked()
    {
        string file = Write("""
            {
              "Logging": { "LogLevel": { "Default": "Information" } },
              "Herald": {
                "Host": { "ShutdownTimeout": "00:00:20" },
                "Handlers": {
                  "SendWelcomeEmail": { "Concurrency": 4, "Retry": { "MaxAttempts": 5 } },
                  "AwardPoints": { "OrderedByKey": true }
                }
              }
            }
            """);

        HeraldCli.Result withoutNames = await HeraldCli.RunAsync("check-settings", file);
        HeraldCli.Result withNames = await HeraldCli.RunAsync("check-settings", file, "--handlers", "SendWelcomeEmail, AwardPoints, RiskCheck");

        Assert.True(withoutNames.ExitCode == 0, withoutNames.ToString());
        Assert.Contains("the 'Herald' section checks out (bus, host, 2 handler sections: AwardPoints, SendWelcomeEmail)", withoutNames.Output, StringComparison.Ordinal);
        Assert.Contains("give --handlers", withoutNames.Output, StringComparison.Ordinal);
        Assert.True(withNames.ExitCode == 0, withNames.ToString());
        Assert.DoesNotContain("give --handlers", withNames.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "Herald": { "Handlers": { "SendWelcomeEmail": { "Concurency": 4 } } } }""", "unknown key 'Herald:Handlers:SendWelcomeEmail:Concurency'. Known here: Group, Concurrency")]
    [InlineData("""{ "Herald": { "Host": { "ShutdownTimeout": "half a minute" } } }""", "'Herald:Host:ShutdownTimeout' is 'half a minute'; expected a time span")]
    [InlineData("""{ "Herald": { "Handlers": { "AwardPoints": { "OrderedByKey": true, "Overflow": "DropOldest" } } } }""", "Handler 'AwardPoints' is misconfigured: OrderedByKey is set with Overflow.DropOldest")]
    [InlineData("""{ "Herald": { "Handlers": { "RiskCheck": { "Retry": { "MaxAttempts": 0 } } } } }""", "'Herald:Handlers:RiskCheck:Retry' makes no retry policy")]
    [InlineData("""{ "Herald": { "Bus": { "PublishTimeout": "-00:00:01" } } }""", "PublishTimeout")]
    [InlineData("""{ "Herald": { "Handlers": { "SendWelcomeEmail": { "Concurrency": 4 }""", "is not a JSON settings file")]
    [InlineData("""{ "Logging": { } }""", "has no 'Herald' section")]
    public async Task CheckSettings_Mistake_Exit1NamingIt(string json, string expected)
    {
        HeraldCli.Result result = await HeraldCli.RunAsync("check-settings", Write(json));

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckSettings_HandlerTheApplicationDoesNotHave_Exit1ListingItsHandlers()
    {
        string file = Write("""{ "Herald": { "Handlers": { "SendWelcomeEmial": { "Concurrency": 4 } } } }""");

        HeraldCli.Result result = await HeraldCli.RunAsync("check-settings", file, "--handlers", "SendWelcomeEmail,AwardPoints");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("configure handler 'SendWelcomeEmial' (Herald:Handlers:SendWelcomeEmial), but no handler has that name. Registered: SendWelcomeEmail, AwardPoints", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckSettings_NoSuchFile_Exit1()
    {
        HeraldCli.Result result = await HeraldCli.RunAsync("check-settings", Path.Combine(_directory.FullName, "missing.json"));

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("There is no settings file at", result.Error, StringComparison.Ordinal);
    }

    private string Write(string json)
    {
        string file = Path.Combine(_directory.FullName, $"appsettings.{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        return file;
    }
}
