using System.Globalization;
using Herald.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace Herald.Tests.Postgres;

/// <summary>
/// Issue 19's crash test on a real server: three consumer processes of one group and a publisher process, SIGKILLed
/// at random thirty times or more while events flow. Every committed publish is applied exactly once by effect (the
/// inbox record and the effect commit in the handler's transaction), nothing is lost, and the work is spread.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresCrashTests(PostgresServer server, ITestOutputHelper output)
{
    private const string Child = "Herald.PostgresChild";
    private const string Schema = "crash";

    [Fact]
    public async Task ThreeConsumersAndAPublisher_KilledAtRandom_ApplyEveryCommittedPublishOnce()
    {
        const int Count = 3000;
        const int Kills = 30;
        string cs = await server.CreateDatabaseAsync("crash");
        await ExecuteAsync(cs, "CREATE TABLE effects (event_id text NOT NULL, user_id bigint NOT NULL, member text NOT NULL)");

        var consumers = new ChildProcess[3];
        for (int slot = 0; slot < consumers.Length; slot++)
        {
            consumers[slot] = new ChildProcess(Child, "consume", cs, Schema, $"c{slot}");
        }

        var published = new HashSet<long>();
        ChildProcess? publisher = null;
        try
        {
            foreach (ChildProcess consumer in consumers)
            {
                await consumer.WaitForLineAsync(l => l == "READY", TimeSpan.FromSeconds(60)); // the group exists before the first publish
            }

            publisher = new ChildProcess(Child, "publish", cs, Schema, "0", Count.ToString(CultureInfo.InvariantCulture));
            var random = new Random(19);
            int kills = 0;
            int[] killedPerSlot = new int[4];
            while (kills < Kills)
            {
                await Task.Delay(random.Next(150, 500));
                int slot = random.Next(4);
                if (slot == 3)
                {
                    if (publisher.Lines.Contains("DONE"))
                    {
                        continue; // it finished: kill consumers only from now on
                    }

                    publisher.Kill();
                    await publisher.ExitedAsync(TimeSpan.FromSeconds(30));
                    Collect(publisher, published);
                    publisher.Dispose();
                    long next = published.Count == 0 ? 0 : published.Max() + 1;
                    publisher = new ChildProcess(Child, "publish", cs, Schema, next.ToString(CultureInfo.InvariantCulture), Count.ToString(CultureInfo.InvariantCulture));
                }
                else
                {
                    consumers[slot].Kill();
                    await consumers[slot].ExitedAsync(TimeSpan.FromSeconds(30));
                    consumers[slot].Dispose();
                    consumers[slot] = new ChildProcess(Child, "consume", cs, Schema, $"c{slot}");
                }

                kills++;
                killedPerSlot[slot]++;
            }

            await publisher.WaitForLineAsync(l => l == "DONE", TimeSpan.FromSeconds(180));
            Collect(publisher, published);

            // Every committed publish applied: the acknowledged ones at least (a publish killed before it said so may be there too).
            long[] missing = [];
            await Poll.UntilAsync(
                () =>
                {
                    HashSet<long> applied = [.. Query(cs, "SELECT DISTINCT user_id FROM effects").Select(r => (long)r[0])];
                    missing = [.. published.Where(id => !applied.Contains(id))];
                    return missing.Length == 0 && Query(cs, $"SELECT count(*) FROM {Schema}.messages")[0][0] is 0L;
                },
                TimeSpan.FromSeconds(120),
                () => $"{missing.Length} acknowledged publishes not applied (e.g. {string.Join(", ", missing.Take(10))}), {Query(cs, $"SELECT count(*) FROM {Schema}.messages")[0][0]} rows left");

            object[][] twice = Query(cs, "SELECT event_id, count(*) FROM effects GROUP BY event_id HAVING count(*) > 1");
            object[][] shares = Query(cs, "SELECT member, count(*) FROM effects GROUP BY member ORDER BY member");
            string figures = $"kills {kills} (consumers {killedPerSlot[0]}/{killedPerSlot[1]}/{killedPerSlot[2]}, publisher {killedPerSlot[3]}); acknowledged publishes {published.Count}, " +
                $"applied {Query(cs, "SELECT count(*) FROM effects")[0][0]}; shares {string.Join(", ", shares.Select(r => $"{r[0]} {r[1]}"))}; applied twice {twice.Length}";
            output.WriteLine(figures);
            Console.WriteLine(figures);

            Assert.Empty(twice);
            Assert.True(published.Count >= Count - 1 - killedPerSlot[3], figures);
            Assert.Equal(3, shares.Length);
            Assert.All(shares, r => Assert.True((long)r[1] >= Count / 20, $"{r[0]} applied only {r[1]}: the work was not spread"));
        }
        finally
        {
            publisher?.Dispose();
            foreach (ChildProcess consumer in consumers)
            {
                consumer.Dispose();
            }
        }
    }

    private static void Collect(ChildProcess publisher, HashSet<long> published)
    {
        foreach (string line in publisher.Lines.Where(l => l.StartsWith("P ", StringComparison.Ordinal)))
        {
            published.Add(long.Parse(line[2..], CultureInfo.InvariantCulture));
        }
    }

    private static async Task ExecuteAsync(string cs, string sql)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static object[][] Query(string cs, string sql)
    {
        using var connection = new NpgsqlConnection(cs);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        using NpgsqlDataReader reader = command.ExecuteReader();
        var rows = new List<object[]>();
        while (reader.Read())
        {
            object[] row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }

        return [.. rows];
    }
}
