using System.Diagnostics;
using System.Globalization;
using System.Text;
using Herald.Benchmarks.Broker;
using Herald.Benchmarks.Fanout;
using Herald.Postgres;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace Herald.Benchmarks.Durable;

/// <summary>
/// `postgres [--quick] [--runs N] [--only a,b]`: Herald on PostgreSQL next to raw Npgsql doing the same writes, and
/// Herald's event store next to Marten's, on one private server (eng/postgres-local.sh: initdb in a temp directory,
/// 127.0.0.1, the server's defaults: fsync and synchronous_commit on; stopped at the end). Each run gets a fresh
/// database after a warm-up in another. Herald runs as users run it: AddHerald in a service provider with logging and
/// default options. Writes the section between the postgres markers of docs/benchmarks.md (quick: benchmarks.quick.md).
/// </summary>
internal static class PostgresBenchmark
{
    private const string Begin = "<!-- postgres:begin (written by the postgres command; edit outside these markers) -->";
    private const string End = "<!-- postgres:end -->";
    private const int Concurrent = 200;
    private const int Appenders = 16;
    private const int InFlight = 64;

    public static async Task<int> RunAsync(bool quick, int runs, string[] only)
    {
        int singles = quick ? 300 : 2_000;
        int many = quick ? 3_000 : 20_000;
        var scenarios = new (string Name, string What, int Events, Func<string, int, Task<double>> Run)[]
        {
            ("raw-insert-commit", "raw Npgsql: one INSERT of the row and its commit per event, one writer", singles, (cs, n) => RawAsync(cs, n, batch: 1)),
            ("herald-publish", "Herald: one publisher, `await PublishAsync` per event (one consumer group: one row per event)", singles, (cs, n) => PublishAsync(cs, n, publishers: 1)),
            ("raw-batch100", "raw Npgsql: 100 rows per INSERT (unnest) and commit, one writer", many, (cs, n) => RawAsync(cs, n, batch: 100)),
            ("herald-concurrent", $"Herald: {Concurrent} concurrent publishers (group commit)", many, (cs, n) => PublishAsync(cs, n, publishers: Concurrent)),
            ("raw-end-to-end", $"raw Npgsql: {InFlight} writers inserting one row each; three consumer processes taking 32 rows at a time (`DELETE … FOR UPDATE SKIP LOCKED RETURNING` in a transaction committed after decoding each event: at least once)", many, (cs, n) => EndToEndAsync(cs, n, raw: true)),
            ("herald-end-to-end", $"Herald: {InFlight} concurrent publishers; one consumer group of three member processes (default Generic Host, default pipeline, the inbox in PostgreSQL)", many, (cs, n) => EndToEndAsync(cs, n, raw: false)),
            ("herald-end-to-end-no-inbox", "Herald as above, the handler with `Idempotent = false` (no inbox lookup and record per event)", many, (cs, n) => EndToEndAsync(cs, n, raw: false, inbox: false)),
            ("store-append", "Herald event store: `AppendAsync` of one event per call, one writer", singles, (cs, n) => AppendAsync(cs, n, writers: 1)),
            ("marten-append", "Marten 9 (quick append mode): `Events.Append` + `SaveChangesAsync` of one event per call, one writer", singles, (cs, n) => MartenAsync(cs, n, writers: 1)),
            ("store-append-concurrent", $"Herald event store: {Appenders} writers, one event per call, each its own stream", many / 4, (cs, n) => AppendAsync(cs, n, writers: Appenders)),
            ("marten-append-concurrent", $"Marten 9 (quick append): {Appenders} writers, one event per call, each its own stream", many / 4, (cs, n) => MartenAsync(cs, n, writers: Appenders)),
        };

        (string admin, Func<Task> stop) = await StartServerAsync();
        var results = new List<(string Name, string What, int Events, double Median, double Min, double Max)>();
        var rounds = new Dictionary<string, List<double>>();
        int databases = 0;
        try
        {
            // Runs interleaved: each round runs every scenario once, so a scenario and its reference share the
            // machine's slow and fast moments instead of one of them getting all of either.
            var chosen = scenarios.Where(s => only.Length == 0 || only.Contains(s.Name)).ToList();
            Dictionary<string, List<double>> rates = rounds;
            foreach (var scenario in chosen)
            {
                rates[scenario.Name] = [];
            }

            for (int i = 0; i < runs; i++)
            {
                foreach ((string name, string _, int events, Func<string, int, Task<double>> run) in chosen)
                {
                    await run(await CreateDatabaseAsync(admin, ++databases), Math.Max(50, events / 10)); // warm-up, in its own database
                    NpgsqlConnection.ClearAllPools(); // the idle connections of earlier databases would count against max_connections
                    ReportSection.Quiesce();
                    double rate = await run(await CreateDatabaseAsync(admin, ++databases), events);
                    NpgsqlConnection.ClearAllPools();
                    rates[name].Add(rate);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-26} run {i + 1}/{runs}: {rate,10:N0} events/s"));
                }
            }

            foreach ((string name, string what, int events, Func<string, int, Task<double>> _) in chosen)
            {
                double[] sorted = [.. rates[name].Order()];
                results.Add((name, what, events, sorted[sorted.Length / 2], sorted[0], sorted[^1]));
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await stop();
        }

        string report = Report(results, rounds, quick, runs);
        Console.WriteLine();
        Console.WriteLine(report);
        await ReportSection.WriteAsync(Begin, End, report, quick);
        return 0;
    }

    private static string Report(List<(string Name, string What, int Events, double Median, double Min, double Max)> results, Dictionary<string, List<double>> rounds, bool quick, int runs)
    {
        StringBuilder md = ReportSection.Start(
            Begin,
            $"On PostgreSQL: Herald next to raw Npgsql and Marten{(quick ? " (quick mode)" : string.Empty)}",
            ReportSection.Command("postgres", quick, runs),
            "; PostgreSQL 15 from Debian on 127.0.0.1 (initdb defaults: fsync on, synchronous_commit on), on the same cores",
            string.Create(CultureInfo.InvariantCulture, $"{runs} rounds, each running every scenario once (interleaved), in a fresh database after a warm-up in another; rows are the structured CloudEvents Herald stores; Herald through AddHerald with default options; medians and min-max."));
        md.AppendLine("| scenario | what | events | events/s (median) | min-max |");
        md.AppendLine("|---|---|---:|---:|---:|");
        foreach (var r in results)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {r.What} | {r.Events:N0} | {r.Median:N0} | {r.Min:N0}-{r.Max:N0} |");
        }

        md.AppendLine();
        ReportSection.RatioHeader(md);
        void Ratio(string target, string a, string b, double bound) => ReportSection.Ratio(md, target, rounds.GetValueOrDefault(a), rounds.GetValueOrDefault(b), bound);

        Ratio("one commit per event: Herald publish >= 0.80x raw inserts", "herald-publish", "raw-insert-commit", 0.80);
        Ratio("concurrent publishers (group commit) >= 0.70x raw batched inserts", "herald-concurrent", "raw-batch100", 0.70);
        Ratio("(no target) publish to handler, three consumer processes, vs raw", "herald-end-to-end", "raw-end-to-end", 0);
        Ratio("(no target) the same without the inbox, vs raw", "herald-end-to-end-no-inbox", "raw-end-to-end", 0);
        Ratio("(no target) event store single appends vs Marten", "store-append", "marten-append", 0);
        Ratio("(no target) event store concurrent appends vs Marten", "store-append-concurrent", "marten-append-concurrent", 0);
        md.Append(End);
        return md.ToString();
    }

    private static Envelope Event(long i) =>
        new("user.created", new UserCreated(i, $"user{i}@example.com", Stopwatch.GetTimestamp()), TimeProvider.System.GetUtcNow()) { Subject = $"user-{i % 1000}" };

    private static readonly CloudEventJsonFormatter Formatter = new(new SystemTextJsonEventSerializer());

    /// <summary>The ceiling: the same rows (id, topic, key, the envelope Herald stores) into a plain table, straight through Npgsql.</summary>
    private static async Task<double> RawAsync(string cs, int events, int batch)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE messages (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id text NOT NULL, topic text NOT NULL, key text, envelope bytea NOT NULL)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        byte[][] rows = [.. Enumerable.Range(0, events).Select(i => Formatter.Encode(Event(i)))];
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < events; start += batch)
        {
            int count = Math.Min(batch, events - start);
            await using var insert = new NpgsqlCommand(
                "INSERT INTO messages (event_id, topic, key, envelope) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[])",
                connection);
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. Enumerable.Range(start, count).Select(_ => Guid.CreateVersion7().ToString())], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. Enumerable.Repeat("user.created", count)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. Enumerable.Range(start, count).Select(i => $"user-{i % 1000}")], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = rows[start..(start + count)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            await insert.ExecuteNonQueryAsync(); // one statement: its own transaction, committed (and flushed) when it returns
        }

        return events / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> PublishAsync(string cs, int events, int publishers)
    {
        await RegisterGroupAsync(cs);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHerald(h => h.UsePostgres(cs));
        await using ServiceProvider provider = services.BuildServiceProvider();
        EventBus bus = provider.GetRequiredService<EventBus>();
        await bus.PublishAsync(Event(-1)); // connected, the schema checked
        long next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, publishers).Select(_ => Task.Run(async () =>
        {
            for (long i = Interlocked.Increment(ref next); i < events; i = Interlocked.Increment(ref next))
            {
                await bus.PublishAsync(Event(i));
            }
        })));
        return events / clock.Elapsed.TotalSeconds;
    }

    /// <summary>One consumer group for user.created, as a stopped consumer leaves it (the publishes write its rows; nobody reads them).</summary>
    private static async Task RegisterGroupAsync(string cs)
    {
        await using (var store = new PostgresEventStore(new PostgresOptions { ConnectionString = cs }))
        {
            await store.GetLastPositionAsync(); // the schema made
        }

        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand("INSERT INTO herald.groups (name, pattern, regex, ordered) VALUES ('workers', 'user.created', $1, false)", connection);
        insert.Parameters.AddWithValue(PostgresPatterns.Regex(TopicPattern.Parse("user.created")));
        await insert.ExecuteNonQueryAsync();
    }

    private static async Task<double> AppendAsync(string cs, int events, int writers)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHerald(h => h.UsePostgres(cs));
        await using ServiceProvider provider = services.BuildServiceProvider();
        IEventStore store = provider.GetRequiredService<IEventStore>();
        await store.AppendAsync("warm-0", [Event(-1)], ExpectedVersion.Any);
        long next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (long i = Interlocked.Increment(ref next); i < events; i = Interlocked.Increment(ref next))
            {
                await store.AppendAsync($"user-{w}", [Event(i)], ExpectedVersion.Any);
            }
        })));
        return events / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> MartenAsync(string cs, int events, int writers)
    {
        await using DocumentStore store = DocumentStore.For(o =>
        {
            o.Connection(cs);
            o.Events.AppendMode = EventAppendMode.Quick; // Marten's fastest append
            o.Events.StreamIdentity = StreamIdentity.AsString;
        });
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await using (IDocumentSession warm = store.LightweightSession())
        {
            warm.Events.Append("warm-0", new UserCreated(-1, "w", 0));
            await warm.SaveChangesAsync();
        }

        long next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (long i = Interlocked.Increment(ref next); i < events; i = Interlocked.Increment(ref next))
            {
                await using IDocumentSession session = store.LightweightSession();
                session.Events.Append($"user-{w}", new UserCreated(i, $"user{i}@example.com", Stopwatch.GetTimestamp()));
                await session.SaveChangesAsync();
            }
        })));
        return events / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Events/s from the first publish until the three member processes have handled (and deleted) every row.</summary>
    private static async Task<double> EndToEndAsync(string cs, int events, bool raw, bool inbox = true)
    {
        string table;
        if (raw)
        {
            table = "messages";
            await using var connection = new NpgsqlConnection(cs);
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE messages (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id text NOT NULL, topic text NOT NULL, key text, envelope bytea NOT NULL)", connection);
            await create.ExecuteNonQueryAsync();
        }
        else
        {
            table = "herald.messages";
        }

        var members = new List<Process>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
                start.ArgumentList.Add(raw ? "pg-raw-member" : "pg-member");
                start.ArgumentList.Add(cs);
                if (!inbox)
                {
                    start.ArgumentList.Add("no-inbox");
                }

                Process member = Process.Start(start)!;
                members.Add(member);
                string? line;
                while ((line = await member.StandardOutput.ReadLineAsync()) != "READY")
                {
                    if (line is null)
                    {
                        throw new InvalidOperationException("a member process ended before it was ready");
                    }
                }
            }

            byte[][] rows = raw ? [.. Enumerable.Range(0, events).Select(i => Formatter.Encode(Event(i)))] : [];
            ServiceProvider? provider = null;
            EventBus? bus = null;
            if (!raw)
            {
                var services = new ServiceCollection();
                services.AddLogging();
                services.AddHerald(h => h.UsePostgres(cs));
                provider = services.BuildServiceProvider();
                bus = provider.GetRequiredService<EventBus>();
            }

            await using var probe = new NpgsqlConnection(cs);
            await probe.OpenAsync();
            long next = -1;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, InFlight).Select(_ => Task.Run(async () =>
            {
                await using var connection = raw ? new NpgsqlConnection(cs) : null;
                if (connection is not null)
                {
                    await connection.OpenAsync();
                }

                for (long i = Interlocked.Increment(ref next); i < events; i = Interlocked.Increment(ref next))
                {
                    if (bus is not null)
                    {
                        await bus.PublishAsync(Event(i));
                        continue;
                    }

                    await using var insert = new NpgsqlCommand("INSERT INTO messages (event_id, topic, key, envelope) VALUES ($1, 'user.created', $2, $3)", connection);
                    insert.Parameters.AddWithValue(Guid.CreateVersion7().ToString());
                    insert.Parameters.AddWithValue($"user-{i % 1000}");
                    insert.Parameters.AddWithValue(rows[i]);
                    await insert.ExecuteNonQueryAsync();
                }
            })));

            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table}", probe);
            while ((long)(await count.ExecuteScalarAsync())! > 0)
            {
                await Task.Delay(20);
            }

            double rate = events / clock.Elapsed.TotalSeconds;
            if (provider is not null)
            {
                await provider.DisposeAsync();
            }

            return rate;
        }
        finally
        {
            foreach (Process member in members)
            {
                member.Kill();
                await member.WaitForExitAsync();
                member.Dispose();
            }
        }
    }

    /// <summary>`pg-member {connection string} [no-inbox]`: a Herald member of group "workers" in a default Generic Host, until killed.</summary>
    public static async Task<int> MemberAsync(string cs, bool idempotent)
    {
        Microsoft.Extensions.Hosting.HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddHerald(h =>
        {
            h.UsePostgres(cs);
            h.AddHandler<DecodedHandler, UserCreated>(o => { o.Group = "workers"; o.Concurrency = 4; o.Idempotent = idempotent; });
        });
        using Microsoft.Extensions.Hosting.IHost host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("READY");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    /// <summary>`pg-raw-member {connection string}`: takes 32 rows at a time and decodes each, until killed.</summary>
    public static async Task<int> RawMemberAsync(string cs)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        Console.WriteLine("READY");
        long decoded = 0;
        while (true)
        {
            // At least once, as Herald: the rows are deleted in a transaction that commits after they were handled
            // (a member killed before that leaves them to the others).
            var taken = new List<byte[]>(32);
            await using NpgsqlTransaction tx = await connection.BeginTransactionAsync();
            await using (var take = new NpgsqlCommand("DELETE FROM messages WHERE seq IN (SELECT seq FROM messages ORDER BY seq LIMIT 32 FOR UPDATE SKIP LOCKED) RETURNING envelope", connection, tx))
            await using (NpgsqlDataReader reader = await take.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    taken.Add(reader.GetFieldValue<byte[]>(0));
                }
            }

            foreach (byte[] row in taken)
            {
                Envelope envelope = CloudEventJsonFormatter.Decode(row);
                if (Formatter.DecodeData(envelope, typeof(UserCreated)) is UserCreated)
                {
                    decoded++;
                }
            }

            await tx.CommitAsync();

            if (taken.Count == 0)
            {
                await Task.Delay(10); // nothing to take: look again shortly
            }
        }
    }

    internal sealed class DecodedHandler : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static async Task<string> CreateDatabaseAsync(string admin, int n)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"bench_{n}");
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }

    /// <summary>Starts a private PostgreSQL with eng/postgres-local.sh in a temporary directory, on a free loopback port.</summary>
    private static async Task<(string ConnectionString, Func<Task> Stop)> StartServerAsync()
    {
        string root = FanoutRunner.FindRepositoryRoot() ?? throw new InvalidOperationException("the postgres benchmark runs from the repository (it starts PostgreSQL with eng/postgres-local.sh)");
        string script = Path.Combine(root, "eng", "postgres-local.sh");
        DirectoryInfo home = Directory.CreateTempSubdirectory("herald-bench-pg-");
        int port = Random.Shared.Next(20_000, 40_000);
        string output = await BrokerBenchmark.ScriptAsync(script, home.FullName, "start", port.ToString(CultureInfo.InvariantCulture));
        string cs = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).First(l => l.StartsWith("Host=", StringComparison.Ordinal)).Trim() + ";Pooling=true;Maximum Pool Size=300";
        Console.WriteLine($"PostgreSQL started: {cs}");
        return (cs, async () =>
        {
            await BrokerBenchmark.ScriptAsync(script, home.FullName, "stop");
            try
            {
                home.Delete(recursive: true);
            }
            catch (UnauthorizedAccessException)
            {
                // owned by the postgres user: the temp directory stays
            }
        });
    }
}
