using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Herald.Benchmarks.Fanout;
using Herald.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Benchmarks.Durable;

/// <summary>
/// `durable [--quick] [--runs N]`: Herald on SQLite next to raw Microsoft.Data.Sqlite inserts of the same rows (the
/// ceiling), in one process, each run on a fresh file in a fresh directory on the machine's disk. Rows are the
/// envelopes Herald stores (a ~256-byte structured CloudEvent). Writes the section between the sqlite markers of
/// docs/benchmarks.md (quick: docs/benchmarks.quick.md).
/// </summary>
internal static class DurableBenchmark
{
    private const string Begin = "<!-- sqlite:begin (written by the durable command; edit outside these markers) -->";
    private const string End = "<!-- sqlite:end -->";

    public static async Task<int> RunAsync(bool quick, int runs, string[] only)
    {
        int singles = quick ? 300 : 2_000;
        int many = quick ? 3_000 : 20_000;
        var scenarios = new (string Name, string What, int Events, Func<string, int, Task<double>> Run)[]
        {
            ("raw-tx-full", "raw: one INSERT + COMMIT per row, synchronous=FULL", singles, (f, n) => RawAsync(f, n, batch: 1, full: true)),
            ("herald-publish-full", "Herald: one publisher, `await PublishAsync` per event, FULL", singles, (f, n) => PublishAsync(f, n, publishers: 1, full: true)),
            ("store-append-full", "Herald event store: `AppendAsync` one event per append, FULL", singles, (f, n) => AppendAsync(f, n, batch: 1, full: true)),
            ("raw-tx-normal", "raw: one INSERT + COMMIT per row, synchronous=NORMAL", singles * 4, (f, n) => RawAsync(f, n, batch: 1, full: false)),
            ("herald-publish-normal", "Herald: one publisher, NORMAL", singles * 4, (f, n) => PublishAsync(f, n, publishers: 1, full: false)),
            ("raw-batch100-full", "raw: 100 rows per transaction, FULL", many, (f, n) => RawAsync(f, n, batch: 100, full: true)),
            ("raw-batch100-records-full", "raw: the rows the end-to-end run writes, 100 events per transaction: each event's row and three inbox records in Herald's layout (schema 7: event id, consumer number, Unix ms; event id first in the key; a time index), the records in 16-row statements as Herald's writer does, consumer names of ~30 characters, FULL", many, (f, n) => RawWithRecordsAsync(f, n, compact: true)),
            ("raw-batch100-records-v6-full", "raw: as above in the inbox layout before schema 7 (consumer name, event id and ISO time as text; consumer first in the key)", many, (f, n) => RawWithRecordsAsync(f, n, compact: false)),
            ("herald-concurrent-full", "Herald: 200 concurrent publishers, group commit of at most 100 (MaxBatch, as the raw batches), FULL", many, (f, n) => PublishAsync(f, n, publishers: 200, full: true)),
            ("store-append-batch100-full", "Herald event store: `AppendAsync` of 100 events, FULL", many, (f, n) => AppendAsync(f, n, batch: 100, full: true)),
            ("herald-publish-to-handler", "Herald: 64 publishers -> one handler group through the default pipeline (durable inbox), FULL", many, (f, n) => PublishToHandlerAsync(f, n)),
            ("herald-end-to-end-3-handlers", "Herald as users run it: a default Generic Host (its logging), `UseSqlite` with default options (FULL), three handlers with default options (durable inbox each); 200 concurrent publishers; until all three handled every event", many, (f, n) => EndToEndAsync(f, n)),
            ("herald-end-to-end-no-inbox", "Herald as above, the handlers with `Idempotent = false` (no inbox lookup and record per delivery)", many, (f, n) => EndToEndAsync(f, n, inbox: false)),
        };

        var results = new List<(string Name, string What, int Events, double Median, double Min, double Max)>();
        var chosen = scenarios.Where(s => only.Length == 0 || only.Contains(s.Name)).ToList();
        var rounds = chosen.ToDictionary(s => s.Name, _ => new List<double>());

        // Runs interleaved: each round runs every scenario once, so a scenario and its reference share the machine's
        // slow and fast moments instead of one of them getting all of either.
        for (int i = 0; i < runs; i++)
        {
            foreach ((string name, string _, int events, Func<string, int, Task<double>> run) in chosen)
            {
                DirectoryInfo dir = Directory.CreateTempSubdirectory("herald-bench-");
                try
                {
                    await run(Path.Combine(dir.FullName, "bench.db"), Math.Max(1, events / 10)); // warm-up on its own file
                    SqliteConnection.ClearAllPools();
                    ReportSection.Quiesce();
                    using Diagnostics.AllocationSampler? sampler = Diagnostics.AllocationSampler.FromEnvironment();
                    long allocated = GC.GetTotalAllocatedBytes(precise: true);
                    double rate = await run(Path.Combine(dir.FullName, "measured.db"), events);
                    allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
                    rounds[name].Add(rate);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-28} run {i + 1}/{runs}: {rate,10:N0} events/s, {allocated / events,6:N0} B/event allocated"));
                    sampler?.Print(name);
                }
                finally
                {
                    SqliteConnection.ClearAllPools();
                    dir.Delete(recursive: true);
                }
            }
        }

        foreach ((string name, string what, int events, Func<string, int, Task<double>> _) in chosen)
        {
            double[] sorted = [.. rounds[name].Order()];
            results.Add((name, what, events, sorted[sorted.Length / 2], sorted[0], sorted[^1]));
        }

        if (only.Length > 0)
        {
            return 0; // a partial run (for profiling) writes no report
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
            $"Durable: Herald on SQLite next to raw inserts{(quick ? " (quick mode)" : string.Empty)}",
            ReportSection.Command("durable", quick, runs),
            $", files on {Path.GetTempPath()} (ext4)",
            string.Create(CultureInfo.InvariantCulture, $"{runs} rounds, each running every scenario once (interleaved) on a fresh file after a warm-up on another; WAL; rows are the envelopes Herald stores (~{RowBytes} bytes); medians and min-max."));
        md.AppendLine("| scenario | what | events | events/s (median) | min-max |");
        md.AppendLine("|---|---|---:|---:|---:|");
        foreach (var r in results)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {r.What} | {r.Events:N0} | {r.Median:N0} | {r.Min:N0}-{r.Max:N0} |");
        }

        md.AppendLine();
        ReportSection.RatioHeader(md);
        void Ratio(string target, string a, string b, double bound) => ReportSection.Ratio(md, target, rounds.GetValueOrDefault(a), rounds.GetValueOrDefault(b), bound);

        Ratio("single durable publish at FULL >= 0.80x raw per-transaction inserts", "herald-publish-full", "raw-tx-full", 0.80);
        Ratio("concurrent publishers (group commit) >= 0.70x raw batched inserts", "herald-concurrent-full", "raw-batch100-full", 0.70);
        Ratio("end to end, three handlers on a default host, 200 publishers, FULL >= 0.50x raw batched inserts", "herald-end-to-end-3-handlers", "raw-batch100-full", 0.50);
        Ratio("(no target) end to end vs raw inserts of the rows it writes (event and three inbox records), batches of 100 events", "herald-end-to-end-3-handlers", "raw-batch100-records-full", 0);
        Ratio("(no target) raw event and records, schema 7 inbox layout vs the layout before", "raw-batch100-records-full", "raw-batch100-records-v6-full", 0);
        Ratio("(no target) event store single appends vs raw per-transaction", "store-append-full", "raw-tx-full", 0);
        Ratio("(no target) event store batches of 100 vs raw batches of 100", "store-append-batch100-full", "raw-batch100-full", 0);
        md.Append(End);
        return md.ToString();
    }

    private static readonly SqliteOptions Template = new();
    private static readonly EnvelopeCodecProbe Probe = new();

    private static int RowBytes => Probe.Row(0).Length;

    private static Envelope Event(long i) =>
        new("user.created", new UserCreated(i, $"user{i}@example.com", Stopwatch.GetTimestamp()), TimeProvider.System.GetUtcNow()) { Subject = $"user-{i % 1000}" };

    private static SqliteOptions Options(string file, bool full) => new()
    {
        ConnectionString = $"Data Source={file}",
        Synchronous = full ? SqliteSynchronous.Full : SqliteSynchronous.Normal,
        MaxBatch = 100, // commits no larger than the raw batches they are compared with
    };

    /// <summary>The ceiling: the same rows into the same table shape, straight through Microsoft.Data.Sqlite.</summary>
    private static Task<double> RawAsync(string file, int events, int batch, bool full)
    {
        using var connection = new SqliteConnection($"Data Source={file}");
        connection.Open();
        using (SqliteCommand setup = connection.CreateCommand())
        {
            setup.CommandText = $"""
                PRAGMA journal_mode = WAL; PRAGMA synchronous = {(full ? "FULL" : "NORMAL")};
                CREATE TABLE messages (position INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, topic TEXT NOT NULL, subject TEXT, target TEXT, envelope BLOB NOT NULL);
                """;
            setup.ExecuteNonQuery();
        }

        byte[][] rows = [.. Enumerable.Range(0, events).Select(i => Probe.Row(i))];
        using var insert = new RawMessageInsert(connection);
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < events; start += batch)
        {
            using SqliteTransaction tx = connection.BeginTransaction();
            for (int i = start; i < Math.Min(events, start + batch); i++)
            {
                insert.Run(tx, Guid.CreateVersion7().ToString(), i, rows[i]);
            }

            tx.Commit();
        }

        return Task.FromResult(events / clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The floor of the writer's work in the end-to-end run: the same message rows plus three inbox records per event
    /// (one per handler), 100 events per transaction, FULL, one prepared single-row statement per table, straight
    /// through Microsoft.Data.Sqlite; the inbox in Herald's layout (<paramref name="compact"/>) or the one before it.
    /// </summary>
    private static Task<double> RawWithRecordsAsync(string file, int events, bool compact)
    {
        using var connection = new SqliteConnection($"Data Source={file}");
        connection.Open();
        using (SqliteCommand setup = connection.CreateCommand())
        {
            setup.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                + "CREATE TABLE messages (position INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, topic TEXT NOT NULL, subject TEXT, target TEXT, envelope BLOB NOT NULL);"
                + (compact
                    ? "CREATE TABLE inbox (event_id TEXT NOT NULL, consumer INTEGER NOT NULL, time INTEGER NOT NULL, PRIMARY KEY (event_id, consumer)) WITHOUT ROWID; CREATE INDEX inbox_time ON inbox (time);"
                    : "CREATE TABLE inbox (consumer TEXT NOT NULL, event_id TEXT NOT NULL, time TEXT NOT NULL, PRIMARY KEY (consumer, event_id)) WITHOUT ROWID; CREATE INDEX inbox_time ON inbox (time);");
            setup.ExecuteNonQuery();
        }

        string[] consumers = ["Registration.SendWelcomeEmail", "Registration.AwardSignupPoints", "Registration.RunRiskCheck"];
        byte[][] rows = [.. Enumerable.Range(0, events).Select(i => Probe.Row(i))];
        string[] ids = [.. Enumerable.Range(0, events).Select(_ => Guid.CreateVersion7().ToString())];
        using var insert = new RawMessageInsert(connection);
        const int Chunk = 16;
        using SqliteCommand record = connection.CreateCommand();
        record.CommandText = "INSERT INTO inbox (event_id, consumer, time) VALUES "
            + string.Join(", ", Enumerable.Range(0, Chunk).Select(r => $"($i{r}, $c{r}, $t{r})")) + " ON CONFLICT DO NOTHING";
        SqliteParameter[] recordParameters = [.. Enumerable.Range(0, Chunk).SelectMany(r => new[]
        {
            record.Parameters.Add($"$i{r}", SqliteType.Text),
            record.Parameters.Add($"$c{r}", compact ? SqliteType.Integer : SqliteType.Text),
            record.Parameters.Add($"$t{r}", compact ? SqliteType.Integer : SqliteType.Text),
        })];
        record.Prepare();
        using SqliteCommand single = connection.CreateCommand();
        single.CommandText = "INSERT INTO inbox (event_id, consumer, time) VALUES ($i0, $c0, $t0) ON CONFLICT DO NOTHING";
        SqliteParameter[] singleParameters =
        [
            single.Parameters.Add("$i0", SqliteType.Text),
            single.Parameters.Add("$c0", compact ? SqliteType.Integer : SqliteType.Text),
            single.Parameters.Add("$t0", compact ? SqliteType.Integer : SqliteType.Text),
        ];
        single.Prepare();
        void Bind(SqliteParameter[] parameters, int row, int eventIndex, int consumer)
        {
            DateTimeOffset now = TimeProvider.System.GetUtcNow();
            parameters[row * 3].Value = ids[eventIndex];
            parameters[(row * 3) + 1].Value = compact ? consumer + 1 : consumers[consumer];
            parameters[(row * 3) + 2].Value = compact ? now.ToUnixTimeMilliseconds() : now.ToString("O", CultureInfo.InvariantCulture);
        }

        var clock = Stopwatch.StartNew();
        for (int start = 0; start < events; start += 100)
        {
            using SqliteTransaction tx = connection.BeginTransaction();
            record.Transaction = tx;
            for (int i = start; i < Math.Min(events, start + 100); i++)
            {
                insert.Run(tx, ids[i], i, rows[i]);
            }

            single.Transaction = tx;
            int end = Math.Min(events, start + 100);
            int records = (end - start) * consumers.Length;
            int next = 0;
            for (; next + Chunk <= records; next += Chunk)
            {
                for (int r = 0; r < Chunk; r++)
                {
                    Bind(recordParameters, r, start + ((next + r) / consumers.Length), (next + r) % consumers.Length);
                }

                record.ExecuteNonQuery();
            }

            for (; next < records; next++)
            {
                Bind(singleParameters, 0, start + (next / consumers.Length), next % consumers.Length);
                single.ExecuteNonQuery();
            }

            tx.Commit();
        }

        return Task.FromResult(events / clock.Elapsed.TotalSeconds);
    }

    private static async Task<double> PublishAsync(string file, int events, int publishers, bool full)
    {
        await using var bus = new EventBus(new EventBusOptions().UseSqlite(Options(file, full)));
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

    private static async Task<double> AppendAsync(string file, int events, int batch, bool full)
    {
        using var store = new SqliteEventStore(Options(file, full));
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < events; start += batch)
        {
            Envelope[] envelopes = [.. Enumerable.Range(start, Math.Min(batch, events - start)).Select(i => Event(i))];
            await store.AppendAsync($"user-{start}", envelopes, ExpectedVersion.NoStream);
        }

        return events / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> PublishToHandlerAsync(string file, int events)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var counter = new Counter(events, done);
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(counter);
        services.AddHerald(h =>
        {
            h.UseSqlite($"Data Source={file}");
            h.AddHandler<CountingHandler, UserCreated>(o => o.Concurrency = 4);
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        HandlerHost host = provider.GetRequiredService<HandlerHost>();
        await host.StartAsync(CancellationToken.None);
        await host.StartedAsync(CancellationToken.None);
        EventBus bus = provider.GetRequiredService<EventBus>();
        long next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            for (long i = Interlocked.Increment(ref next); i < events; i = Interlocked.Increment(ref next))
            {
                await bus.PublishAsync(new UserCreated(i, $"user{i}@example.com", Stopwatch.GetTimestamp()));
            }
        })));
        await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        double rate = events / clock.Elapsed.TotalSeconds;
        await host.StopAsync(CancellationToken.None);
        return rate;
    }

    /// <summary>What a user runs: a default Generic Host with Herald on SQLite and three handlers, all default options.</summary>
    private static async Task<double> EndToEndAsync(string file, int events, bool inbox = true)
    {
        var probe = new Probe(events);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(probe);
        builder.Services.AddHerald(h =>
        {
            h.UseSqlite($"Data Source={file}");
            h.AddHandler<Systems.HeraldHandlerSystem.EmailHandler, UserCreated>(o => o.Idempotent = inbox);
            h.AddHandler<Systems.HeraldHandlerSystem.PointsHandler, UserCreated>(o => o.Idempotent = inbox);
            h.AddHandler<Systems.HeraldHandlerSystem.RiskHandler, UserCreated>(o => o.Idempotent = inbox);
        });
        using IHost host = builder.Build();
        await host.StartAsync();
        EventBus bus = host.Services.GetRequiredService<EventBus>();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        await Broker.BrokerBenchmark.PublishAllAsync(events, 200, i => bus.PublishAsync(new UserCreated(i, Broker.BrokerBenchmark.Email(i), Stopwatch.GetTimestamp())).AsTask());
        (double rate, double _, double _) = await Broker.BrokerBenchmark.FinishAsync(probe, events, start);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (Environment.GetEnvironmentVariable("HERALD_BENCH_WRITER") == "1" && bus.Transport is Herald.Sqlite.SqliteTransport sqlite)
        {
            Herald.Sqlite.SqliteWriter writer = sqlite.Database.Writer;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  writer: {writer.Commits} commits of {writer.Writes / (double)Math.Max(1, writer.Commits):N0} writes, busy {Stopwatch.GetElapsedTime(0, writer.BusyTicks).TotalSeconds / seconds:P0} of {seconds:N2} s, {Stopwatch.GetElapsedTime(0, writer.BusyTicks).TotalMicroseconds / Math.Max(1, writer.Writes):N1} µs a write"));
            Console.WriteLine($"  cpu {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / seconds:N2} cores, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / events:N0} µs an event");
        }

        await host.StopAsync();
        return rate;
    }

    internal sealed class Counter(int expected, TaskCompletionSource done)
    {
        private int _count;

        public void Hit()
        {
            if (Interlocked.Increment(ref _count) == expected)
            {
                done.TrySetResult();
            }
        }
    }

    internal sealed class CountingHandler(Counter counter) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            counter.Hit();
            return Task.CompletedTask;
        }
    }

    /// <summary>The raw references' one-row insert of a message, prepared once, straight through Microsoft.Data.Sqlite.</summary>
    private sealed class RawMessageInsert : IDisposable
    {
        private readonly SqliteCommand _command;
        private readonly SqliteParameter _id;
        private readonly SqliteParameter _topic;
        private readonly SqliteParameter _subject;
        private readonly SqliteParameter _envelope;

        public RawMessageInsert(SqliteConnection connection)
        {
            _command = connection.CreateCommand();
            _command.CommandText = "INSERT INTO messages (event_id, topic, subject, envelope) VALUES ($i, $t, $s, $e)";
            _id = _command.Parameters.Add("$i", SqliteType.Text);
            _topic = _command.Parameters.Add("$t", SqliteType.Text);
            _subject = _command.Parameters.Add("$s", SqliteType.Text);
            _envelope = _command.Parameters.Add("$e", SqliteType.Blob);
            _command.Prepare();
        }

        public void Run(SqliteTransaction tx, string id, long i, byte[] row)
        {
            _command.Transaction = tx;
            _id.Value = id;
            _topic.Value = "user.created";
            _subject.Value = $"user-{i % 1000}";
            _envelope.Value = row;
            _command.ExecuteNonQuery();
        }

        public void Dispose() => _command.Dispose();
    }

    /// <summary>Encodes rows exactly as Herald stores them.</summary>
    private sealed class EnvelopeCodecProbe
    {
        private readonly CloudEventJsonFormatter _formatter = new(new SystemTextJsonEventSerializer());

        public byte[] Row(long i) => _formatter.Encode(Event(i));
    }
}
