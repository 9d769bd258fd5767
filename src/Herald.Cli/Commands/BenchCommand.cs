using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Spectre.Console;

namespace Herald.Cli.Commands;

/// <summary><c>herald bench [--full] [--only a,b] [--runs n]</c>: the benchmark project's side-by-side fan-out, with progress and the table.</summary>
internal static partial class BenchCommand
{
    public static Command Create()
    {
        var full = new Option<bool>("--full") { Description = "The full sizes (1,000,000 events, 5 s paced) instead of the quick ones." };
        var only = new Option<string?>("--only") { Description = "Only these systems, comma separated (for example herald-pull,channels-bounded).", HelpName = "systems" };
        var runs = new Option<int>("--runs") { Description = "Runs per system and mode (each a fresh process).", DefaultValueFactory = _ => 3 };
        var project = new Option<string?>("--project") { Description = "The benchmark project (default: bench/Herald.Benchmarks of the repository around the current directory).", HelpName = "path" };
        var command = new Command("bench", """
            Run the side-by-side fan-out scenarios of the benchmark project (Herald next to raw channels and the .NET peers) and print the table.
            Example: herald bench --only herald-pull,herald-handlers,channels-bounded --runs 1
            """)
        {
            full, only, runs, project,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            string bench = parse.GetValue(project) ?? FindBenchProject()
                ?? throw new CliException("Cannot find bench/Herald.Benchmarks: run herald bench inside the Herald repository, or give --project.");
            if (parse.GetValue(runs) < 1)
            {
                throw CliException.Usage("--runs must be at least 1.");
            }

            string csv = Path.Combine(Path.GetTempPath(), $"herald-bench-{Environment.ProcessId}.csv");
            var arguments = new List<string> { "run", "-c", "Release", "--project", bench, "--", "fanout", "--csv", csv, "--runs", parse.GetValue(runs).ToString(CultureInfo.InvariantCulture) };
            if (!parse.GetValue(full))
            {
                arguments.Add("--quick");
            }

            if (parse.GetValue(only) is { } systems)
            {
                arguments.Add("--only");
                arguments.Add(systems);
            }

            int exit = await RunWithProgressAsync(arguments, ct).ConfigureAwait(false);
            if (!File.Exists(csv))
            {
                throw new CliException($"The benchmark ended with exit code {exit} and wrote no results.");
            }

            PrintTable(await File.ReadAllLinesAsync(csv, ct).ConfigureAwait(false));
            File.Delete(csv);
            return exit == 0 ? ExitCodes.Ok : ExitCodes.Error;
        }, ct));
        return command;
    }

    private static async Task<int> RunWithProgressAsync(List<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start) ?? throw new CliException("Could not start dotnet.");
        Task<string> errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await Output.Console.Progress().AutoClear(false).StartAsync(async progress =>
        {
            ProgressTask task = progress.AddTask("building the benchmarks", maxValue: 1);
            task.IsIndeterminate = true;
            while (await process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                Match run = RunLine().Match(line);
                if (run.Success)
                {
                    task.IsIndeterminate = false;
                    task.Description = Markup.Escape($"{run.Groups["mode"].Value} {run.Groups["system"].Value} run {run.Groups["run"].Value}");
                    task.Increment(1);
                    task.MaxValue = task.Value + 1; // the total is the benchmark's to know; the bar shows runs done
                    if (Output.Redirected)
                    {
                        Output.Console.WriteLine(line.Trim());
                    }
                }
            }

            task.MaxValue = task.Value;
            task.StopTask();
        }).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            Output.Error((await errors.ConfigureAwait(false)).Trim());
        }

        return process.ExitCode;
    }

    private static void PrintTable(string[] csv)
    {
        var table = new Table().AddColumns(csv[0].Split(','));
        foreach (string row in csv.Skip(1).Where(r => r.Length > 0))
        {
            table.AddRow(row.Split(',').Select(Markup.Escape).ToArray());
        }

        Output.Console.Write(table);
    }

    private static string? FindBenchProject()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "bench", "Herald.Benchmarks", "Herald.Benchmarks.csproj");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    [GeneratedRegex(@"^(?<mode>\w+)\s+(?<system>\S+)\s+run (?<run>\d+/\d+):")]
    private static partial Regex RunLine();
}
