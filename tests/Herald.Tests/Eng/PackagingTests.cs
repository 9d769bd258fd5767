using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using Herald.Tests.Support;
using Xunit.Abstractions;

namespace Herald.Tests.Eng;

/// <summary>
/// What a user installs: every library packed to a local folder feed, then a fresh console project outside the
/// repository that references only those packages (no project references) builds, shows the analyzer's warning on a
/// planted topic mistake, and runs the README's quick start.
/// </summary>
[Collection(ReleaseBuildsCollection.Name)]
public sealed partial class PackagingTests(ITestOutputHelper output)
{
    private static readonly string[] Libraries =
    [
        "Herald", "Herald.Sqlite", "Herald.RabbitMQ", "Herald.Nats", "Herald.Postgres", "Herald.MessagePack", "Herald.Protobuf",
        "Herald.Testing", "Herald.Testing.Transports", "Herald.Dashboard", "Herald.Cli",
    ];

    [Fact]
    public async Task PackedLibraries_InstallIntoAFreshProject_WhereTheAnalyzerWarns_AndTheQuickStartRuns()
    {
        string root = ExternalCommand.RepositoryRoot();
        string version = $"0.3.0-pkgtest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        DirectoryInfo work = Directory.CreateTempSubdirectory("herald-pack-");
        string feed = Path.Combine(work.FullName, "feed");
        try
        {
            // Pack: one MSBuild run over the libraries, in Release, into the folder feed (restored already: the test run
            // restored the solution, and restore does not depend on the configuration).
            string traversal = Path.Combine(work.FullName, "pack.proj");
            await File.WriteAllTextAsync(traversal, $"""
                <Project>
                  <ItemGroup>
                {string.Concat(Libraries.Select(l => $"    <Library Include=\"{root}/src/{l}/{l}.csproj\" />\n"))}  </ItemGroup>
                  <Target Name="Pack">
                    <MSBuild Projects="@(Library)" Targets="Pack" Properties="Configuration=Release;Version={version};PackageOutputPath={feed}" />
                  </Target>
                </Project>
                """);
            await ReleaseBuilds.Gate.WaitAsync();
            try
            {
                await RunAsync("dotnet", ["msbuild", traversal, "-t:Pack", "-nologo", "-v:m"], work.FullName, TimeSpan.FromMinutes(10));
            }
            finally
            {
                ReleaseBuilds.Gate.Release();
            }

            foreach (string library in Libraries)
            {
                Assert.True(File.Exists(Path.Combine(feed, $"{library}.{version}.nupkg")), $"{library} was packed");
                Assert.True(File.Exists(Path.Combine(feed, $"{library}.{version}.snupkg")), $"{library} has a symbol package");
            }

            using (ZipArchive herald = ZipFile.OpenRead(Path.Combine(feed, $"Herald.{version}.nupkg")))
            {
                string[] entries = [.. herald.Entries.Select(e => e.FullName)];
                Assert.Contains("analyzers/dotnet/cs/Herald.Analyzers.dll", entries);
                Assert.Contains("analyzers/dotnet/cs/Herald.Analyzers.CodeFixes.dll", entries);
                Assert.Contains("lib/net10.0/Herald.dll", entries);
                Assert.Contains("lib/net10.0/Herald.xml", entries); // the XML docs
                Assert.Contains("README.md", entries);
                using var nuspec = new StreamReader(herald.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
                string manifest = await nuspec.ReadToEndAsync();
                Assert.Contains("<license type=\"expression\">MIT</license>", manifest, StringComparison.Ordinal);
                Assert.Contains("<readme>README.md</readme>", manifest, StringComparison.Ordinal);
                Assert.Contains("cloudevents", manifest, StringComparison.Ordinal); // the tags
                Assert.DoesNotContain("Herald.Analyzers\"", manifest, StringComparison.Ordinal); // inside, not a dependency
            }

            using (ZipArchive sqlite = ZipFile.OpenRead(Path.Combine(feed, $"Herald.Sqlite.{version}.nupkg")))
            {
                using var nuspec = new StreamReader(sqlite.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
                Assert.Contains($"<dependency id=\"Herald\" version=\"{version}\"", await nuspec.ReadToEndAsync(), StringComparison.Ordinal);
            }

            // A fresh project: packages only, the README's quick start as its Program.cs, and a planted mistake.
            string app = Directory.CreateDirectory(Path.Combine(work.FullName, "app")).FullName;
            await File.WriteAllTextAsync(Path.Combine(app, "NuGet.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="herald-local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Herald" Version="{version}" />
                    <PackageReference Include="Herald.Sqlite" Version="{version}" />
                    <PackageReference Include="Herald.MessagePack" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), QuickStart(await File.ReadAllTextAsync(Path.Combine(root, "README.md"))));
            await File.WriteAllTextAsync(Path.Combine(app, "Planted.cs"), """
                namespace Planted;

                public sealed record Untopiced(int Value);

                public static class Mistake
                {
                    public static ValueTask PublishAsync(Herald.EventBus bus) => bus.PublishAsync(new Untopiced(1));
                }
                """);

            string build = await RunAsync("dotnet", ["build", "-nologo", "-v:m"], app, TimeSpan.FromMinutes(5));
            Assert.Matches(@"warning HERALD001: 'Untopiced' is published but has no topic", build);

            string run = await RunAsync("dotnet", ["run", "--no-build"], app, TimeSpan.FromMinutes(2));
            output.WriteLine(run);
            Assert.Contains("welcome mail to a@b.c (user.created, key user-42)", run, StringComparison.Ordinal);
            Assert.Contains("risk: 1 queued, 0 dropped; audit: 1 queued", run, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
            string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            foreach (string library in Libraries)
            {
                string cached = Path.Combine(packages, library.ToLowerInvariant(), version);
                if (Directory.Exists(cached))
                {
                    Directory.Delete(cached, recursive: true); // each run packs a version of its own; leave none behind
                }
            }
        }
    }

    /// <summary>The first C# block under the README's "Quick start" heading.</summary>
    private static string QuickStart(string readme)
    {
        int section = readme.IndexOf("## Quick start", StringComparison.Ordinal);
        Assert.True(section >= 0, "the README has a Quick start section");
        Match block = CSharpBlock().Match(readme, section);
        Assert.True(block.Success, "the Quick start section has a C# block");
        return block.Groups[1].Value;
    }

    [GeneratedRegex("```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    /// <summary>Runs a command to its end, killing it (and its children) after <paramref name="timeout"/>; a non-zero exit fails with its output.</summary>
    private async Task<string> RunAsync(string file, string[] arguments, string directory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {timeout}:\n{await stdout}\n{await stderr}");
        }

        string text = await stdout + "\n" + await stderr;
        output.WriteLine($"$ {file} {string.Join(' ', arguments)}\n{text}");
        return process.ExitCode == 0 ? text : throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{text}");
    }
}
