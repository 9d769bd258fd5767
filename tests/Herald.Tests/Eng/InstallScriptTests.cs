using Herald.Tests.Support;
using Xunit.Abstractions;

namespace Herald.Tests.Eng;

/// <summary>
/// Issue 17: on a fresh machine the browser tests' chromium install died on the dpkg lock the broker install held (the
/// test projects run in parallel). The install steps go through eng/apt-install.sh; eng/check-apt-install.sh proves it
/// safe to run at the same time and again, with apt's locks held by another process meanwhile.
/// </summary>
public sealed class InstallScriptTests(ITestOutputHelper output)
{
    private static bool CanInstall() =>
        File.Exists("/usr/bin/apt-get") && File.Exists("/usr/bin/python3")
        && (Environment.UserName == "root" || File.Exists("/usr/bin/sudo"));

    [SkippableFact]
    public async Task AptInstall_TwiceAtOnce_WhileAptIsLocked_AndAgain_Succeeds()
    {
        Skip.IfNot(CanInstall(), "installing needs apt-get, python3 and root (or sudo)");

        string said = await ExternalCommand.RunAsync("bash", [Path.Combine(ExternalCommand.RepositoryRoot(), "eng", "check-apt-install.sh")], TimeSpan.FromMinutes(15));

        output.WriteLine(said);
        Assert.Contains("a third run: ok", said, StringComparison.Ordinal);
    }
}
