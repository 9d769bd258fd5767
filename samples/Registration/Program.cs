// Herald's Registration sample: user.created fans out to four handlers run by the Herald host:
//   SendWelcomeEmail  slow (20 µs of work per user), 8 at a time
//   AwardPoints       ordered per user (key), 4 lanes
//   RiskCheck         fails transiently for ids ending in 3 (retried) and for good for ids ending in 007 (dead-lettered)
//   AuditTrail        a pattern handler on user.*
//
// By default it runs on the embedded durable store: herald.db next to the sample's binary (SQLite, WAL). Each run
// registers the next users (ids carry on from the last run) in batches: the sample's own table and the events commit
// in one transaction (the outbox). Stop it at any moment (Ctrl+C, or kill it): the next run first finishes what
// the last one left, then goes on. `--memory` runs the same handlers on the in-memory bus instead.
//
// `--rabbitmq amqp://...` runs the same handlers on a RabbitMQ broker (eng/rabbitmq-local.sh starts one), publishing
// with 64 publishes in flight (publisher confirms), queues named registration.{handler}. `--nats nats://...` runs them on
// NATS JetStream (eng/nats-local.sh starts a server): the stream REGISTRATION, 64 publishes in flight, each stored
// before it completes, a durable consumer per handler. `--postgres "Host=...;Database=...;Username=..."` runs them on
// PostgreSQL (the schema "registration"): 64 publishes in flight, group-committed, each handler a consumer group whose
// members (run the sample twice at once to see two) compete for its rows.
//
// Settings from configuration override the code's (see docs/handling.md), for example
//   Herald__Handlers__SendWelcomeEmail__Concurrency=2 dotnet run --project samples/Registration
//
// Usage: Registration [count] [--memory | --rabbitmq uri | --nats url | --postgres connection-string] [--db path]
// It prints what each handler did, then the dead letters, and exits 1 if any event is unaccounted for.
using System.Diagnostics;
using System.Globalization;
using Herald;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Registration;

bool inMemory = args.Contains("--memory");
int rabbitArg = Array.IndexOf(args, "--rabbitmq");
string? rabbitUri = rabbitArg >= 0 && rabbitArg + 1 < args.Length ? args[rabbitArg + 1] : null;
int natsArg = Array.IndexOf(args, "--nats");
string? natsUrl = natsArg >= 0 && natsArg + 1 < args.Length ? args[natsArg + 1] : null;
int postgresArg = Array.IndexOf(args, "--postgres");
string? postgres = postgresArg >= 0 && postgresArg + 1 < args.Length ? args[postgresArg + 1] : null;
bool broker = rabbitUri is not null || natsUrl is not null || postgres is not null;
bool durable = !inMemory && !broker; // the SQLite default
int dbArg = Array.IndexOf(args, "--db");
string dbPath = dbArg >= 0 && dbArg + 1 < args.Length ? args[dbArg + 1] : Path.Combine(AppContext.BaseDirectory, "herald.db");
int count = args.FirstOrDefault(a => int.TryParse(a, CultureInfo.InvariantCulture, out _)) is { } c ? int.Parse(c, CultureInfo.InvariantCulture) : inMemory ? 100_000 : 10_000;
string connectionString = $"Data Source={dbPath}";

long first = durable ? SampleState.NextUserId(connectionString) : 0;
HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
if (Environment.GetEnvironmentVariable("HERALD_SAMPLE_LOGS") is null)
{
    builder.Logging.AddFilter("Herald", LogLevel.Critical); // retries and dead letters are summarised in the table below
}
builder.Services.AddSingleton(new Latencies(first, count)).AddSingleton<PointsLedger>();
builder.Services.AddHerald(h =>
{
    h.Bus.Name = "registration";
    h.BindConfiguration(builder.Configuration.GetSection("Herald")); // appsettings.json or Herald__... environment variables
    if (rabbitUri is not null)
    {
        h.UseRabbitMQ(rabbitUri, o => o.QueuePrefix = "registration.");
    }
    else if (natsUrl is not null)
    {
        h.UseNats(natsUrl, o => { o.Stream = "REGISTRATION"; o.SubjectPrefix = "registration"; });
    }
    else if (postgres is not null)
    {
        h.UsePostgres(postgres, o => o.Schema = "registration");
    }
    else if (durable)
    {
        h.UseSqlite(connectionString);
    }

    h.AddRegistrationHandlers(); // Handlers.cs: welcome mail x8, points by key x4, risk check x16 with retries, audit on user.*
});

using IHost host = builder.Build();
await host.StartAsync();
EventBus bus = host.Services.GetRequiredService<EventBus>();
HandlerHost handlers = host.Services.GetRequiredService<HandlerHost>();
Latencies latencies = host.Services.GetRequiredService<Latencies>();

Console.WriteLine(
    inMemory ? $"Herald Registration sample (in memory): publishing {count:N0} user.created events to 4 handlers..."
    : rabbitUri is not null ? $"Herald Registration sample on RabbitMQ: publishing {count:N0} user.created events to 4 handlers..."
    : natsUrl is not null ? $"Herald Registration sample on NATS JetStream: publishing {count:N0} user.created events to 4 handlers..."
    : postgres is not null ? $"Herald Registration sample on PostgreSQL: publishing {count:N0} user.created events to 4 handlers..."
    : $"Herald Registration sample on {dbPath}: registering users {first:N0} to {first + count - 1:N0} (4 handlers, durable)...");
var clock = Stopwatch.StartNew();
DateTimeOffset createdAt = TimeProvider.System.GetUtcNow();
if (broker)
{
    // Many publishes in flight: the broker confirms (JetStream acknowledges, PostgreSQL commits) in batches, not one round trip each.
    await Parallel.ForAsync(0L, count, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, ct) =>
    {
        latencies.Published(i);
        await bus.PublishAsync(new UserCreated(i, $"user{i}@example.com", createdAt), new PublishOptions { Key = $"user-{i % 1000}" }, ct);
    });
}
else if (inMemory)
{
    for (long i = 0; i < count; i++)
    {
        latencies.Published(i);
        await bus.PublishAsync(new UserCreated(i, $"user{i}@example.com", createdAt), new PublishOptions { Key = $"user-{i % 1000}" });
    }
}
else
{
    // The outbox: the sample's own state (the next user id) and the events commit together, 100 users a transaction.
    using var connection = new SqliteConnection(connectionString);
    connection.Open();
    for (long batch = first; batch < first + count; batch += 100)
    {
        using SqliteTransaction tx = connection.BeginTransaction();
        long end = Math.Min(batch + 100, first + count);
        for (long i = batch; i < end; i++)
        {
            latencies.Published(i);
            await bus.PublishAsync(new UserCreated(i, $"user{i}@example.com", createdAt), new PublishOptions { Key = $"user-{i % 1000}", Transaction = tx });
        }

        SampleState.SetNextUserId(tx, end);
        tx.Commit();
    }
}

TimeSpan publishTime = clock.Elapsed;

// Wait until every handler has settled every event (bounded: the sample never hangs).
using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(300)))
{
    while (!durable
        ? handlers.Consumers.Any(consumer => consumer.Stats.Handled + consumer.Stats.DeadLettered + consumer.Stats.Duplicates + consumer.Queue.Dropped < count)
        : SampleState.GroupsBehind(connectionString) > 0)
    {
        if (clock.Elapsed - publishTime > TimeSpan.FromSeconds(10) && (int)clock.Elapsed.TotalMilliseconds % 5000 < 10)
        {
            // Taking long: say where each handler is (handled + dead-lettered + duplicates of this run).
            Console.Error.WriteLine(string.Join(", ", handlers.Consumers.Select(h => $"{h.Handler.Name} {h.Stats.Handled + h.Stats.DeadLettered + h.Stats.Duplicates}/{count}")));
        }

        await Task.Delay(10, deadline.Token);
    }
}

TimeSpan totalTime = clock.Elapsed;
IReadOnlyList<ConsumerInfo> consumers = handlers.Consumers;
DeadLetters deadLetters = host.Services.GetRequiredService<DeadLetters>();
IReadOnlyList<DeadLetter> letters = await deadLetters.ListAsync(max: int.MaxValue);
await host.StopAsync();

Console.WriteLine();
Console.WriteLine($"{"handler",-18} {"options",-24} {"handled",9} {"retried",8} {"dead",6} {"dropped",8} {"p50 µs",8} {"p99 µs",9}");
Console.WriteLine(new string('-', 96));
bool lost = false;
foreach (ConsumerInfo consumer in consumers)
{
    HandlerOptions o = consumer.Handler.Options;
    string options = $"x{o.Concurrency}{(o.OrderedByKey ? " by key" : string.Empty)}, {o.Retry.MaxAttempts} tries";
    LatencyRecorder recorder = latencies.For(consumer.Handler.Name);
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"{consumer.Handler.Name,-18} {options,-24} {consumer.Stats.Handled,9:N0} {consumer.Stats.Retried,8:N0} {consumer.Stats.DeadLettered,6:N0} {consumer.Queue.Dropped,8:N0} {recorder.PercentileMicroseconds(50),8:N0} {recorder.PercentileMicroseconds(99),9:N0}"));

    // In memory this run's events are all there is; on SQLite a run also finishes what an interrupted one left.
    long settled = consumer.Stats.Handled + consumer.Stats.DeadLettered + consumer.Stats.Duplicates + consumer.Queue.Dropped;
    lost |= inMemory ? settled != count : settled < count; // a broker or the file may also hold an interrupted run's events
}

long unaccounted = 0;
if (durable)
{
    // On the durable store, the file is the judge: every event in the log is in each handler's inbox or dead letters.
    unaccounted = SampleState.Unaccounted(connectionString);
    lost |= SampleState.GroupsBehind(connectionString) > 0 || unaccounted > 0;
}

EventBusStats stats = bus.Stats;
Console.WriteLine(new string('-', 96));
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"published {stats.Published:N0} in {publishTime.TotalMilliseconds:N0} ms ({stats.Published / publishTime.TotalSeconds:N0} events/s); all handled in {totalTime.TotalMilliseconds:N0} ms"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"points awarded {host.Services.GetRequiredService<PointsLedger>().Total:N0}; shutdown left {handlers.LastShutdown?.TotalLeft ?? 0} undelivered"));

Console.WriteLine();
Console.WriteLine(durable ? $"Dead letters in {Path.GetFileName(dbPath)} (all runs): {letters.Count}" : $"Dead letters: {letters.Count}");
foreach (DeadLetter letter in letters.Take(5))
{
    Console.WriteLine($"  {letter.Time:HH:mm:ss.fff} {letter.Consumer} {letter.Envelope.Type} key={letter.Envelope.Subject} {letter.Reason} after {letter.Attempts}: {letter.ExceptionMessage}");
}

if (letters.Count > 5)
{
    Console.WriteLine($"  ... and {letters.Count - 5} more (same reason)");
}

Console.WriteLine(lost
    ? $"LOST EVENTS: some handler neither handled, dead-lettered nor counted an event{(unaccounted > 0 ? $" ({unaccounted} in the log are in no inbox and no dead letters)" : string.Empty)}."
    : !durable
        ? "No event lost: every event was handled by each handler or is in the dead letters with its reason."
        : "No event lost: every stored event was handled by each handler or is in the dead letters with its reason. Run again to register the next users.");
return lost ? 1 : 0;
