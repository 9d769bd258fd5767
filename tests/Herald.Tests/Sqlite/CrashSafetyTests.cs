using System.Diagnostics;
using Herald.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Herald.Tests.Sqlite;

/// <summary>
/// Kills a publishing and consuming process (tests/Herald.CrashChild) with SIGKILL at random moments, restarting it
/// on the same file each time, then checks that nothing confirmed was lost and no effect was applied twice.
/// HERALD_CRASH_KILLS sets the number of kills (default 30; e.g. 5 for a quick run, 300 for a soak).
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SigkillAtRandomMoments_EveryConfirmedEventReachesEachGroup_EachEffectAppliedOnce()
    {
        int kills = int.TryParse(Environment.GetEnvironmentVariable("HERALD_CRASH_KILLS"), out int k) ? k : 30;
        int seed = Environment.TickCount;
        var random = new Random(seed);
        using var db = new TempDatabase("crash.db");
        var attempted = new HashSet<long>();
        var confirmed = new HashSet<long>();
        long next = 1;
        int killedWhilePublishing = 0;

        for (int run = 0; run < kills; run++)
        {
            using var child = new ChildProcess("Herald.CrashChild", db.File, next.ToString(System.Globalization.CultureInfo.InvariantCulture), "600");
            await child.WaitForLineAsync(l => l == "READY", StartTimeout);

            // The chaos: a random moment after the child is up (not a wait for anything), from at once to 1.5 s.
            await Task.Delay(random.Next(0, 1500));
            bool published = child.Lines.Contains("PUBLISHED");
            child.Kill();
            await child.ExitedAsync();
            killedWhilePublishing += published ? 0 : 1;

            foreach (string line in child.Lines)
            {
                if (line.StartsWith("A ", StringComparison.Ordinal))
                {
                    attempted.Add(long.Parse(line.AsSpan(2), System.Globalization.CultureInfo.InvariantCulture));
                }
                else if (line.StartsWith("P ", StringComparison.Ordinal))
                {
                    confirmed.Add(long.Parse(line.AsSpan(2), System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            // Start again after the last confirmed number: unconfirmed ones above it are published again (same ids).
            next = confirmed.Count == 0 ? 1 : confirmed.Max() + 1;
        }

        using (var drain = new ChildProcess("Herald.CrashChild", db.File, "drain"))
        {
            await drain.ExitedAsync(TimeSpan.FromMinutes(3));
            Assert.True(drain.Lines.Contains("DRAINED"), $"the draining child did not finish: exit {drain.ExitCode}\n{string.Join('\n', drain.Lines.TakeLast(20))}");
        }

        var applied = new Dictionary<(string Group, long Number), long>();
        long delivered;
        long duplicates;
        using (var connection = new SqliteConnection($"Data Source={db.File};Pooling=False"))
        {
            connection.Open();
            using SqliteCommand integrity = connection.CreateCommand();
            integrity.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", integrity.ExecuteScalar());

            using SqliteCommand effects = connection.CreateCommand();
            effects.CommandText = "SELECT grp, number, applied FROM effects";
            using (SqliteDataReader reader = effects.ExecuteReader())
            {
                while (reader.Read())
                {
                    applied[(reader.GetString(0), reader.GetInt64(1))] = reader.GetInt64(2);
                }
            }

            using SqliteCommand counts = connection.CreateCommand();
            counts.CommandText = "SELECT count(*), coalesce(sum(duplicate), 0) FROM deliveries";
            using SqliteDataReader row = counts.ExecuteReader();
            row.Read();
            delivered = row.GetInt64(0);
            duplicates = row.GetInt64(1);
        }

        string figures =
            $"crash test (seed {seed}): kills {kills} ({killedWhilePublishing} while publishing), published (confirmed) {confirmed.Count}, attempted {attempted.Count}, "
            + $"delivered {delivered} (both groups), redelivered after a kill {duplicates}, duplicates suppressed by the inbox {duplicates}, effects {applied.Count}";
        output.WriteLine(figures);
        Console.WriteLine(figures);

        Assert.True(kills == 0 || confirmed.Count > 0, "no publish was ever confirmed");
        foreach (long number in confirmed)
        {
            Assert.True(applied.TryGetValue(("alpha", number), out long a) && a == 1, $"alpha: event {number} was confirmed but its effect was applied {a} times");
            Assert.True(applied.TryGetValue(("beta", number), out long b) && b == 1, $"beta: event {number} was confirmed but its effect was applied {b} times");
        }

        foreach (((string group, long number), long times) in applied)
        {
            Assert.True(times == 1, $"{group}: the effect of event {number} was applied {times} times");
            Assert.True(attempted.Contains(number), $"{group}: event {number} was delivered but never published");
        }
    }
}
