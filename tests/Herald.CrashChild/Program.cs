// The crash-safety child: `Herald.CrashChild <db> <first-number> <count>` publishes first, first+1, ... with
// four concurrent publishers (ids "n-<number>", so a number published again after a crash is the same event)
// and consumes them with two groups whose handlers apply an inbox-guarded effect in their own transaction.
// `Herald.CrashChild <db> drain` publishes nothing and exits 0 once both groups have read the whole log.
// It prints "READY" once started, "A <n>" before publishing n and "P <n>" after PublishAsync(n) returned.
using Herald;
using Herald.CrashChild;
using Herald.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

string db = args[0];
bool drain = args[1] == "drain";
string connectionString = $"Data Source={db}";

HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Services.AddHerald(h =>
{
    h.UseSqlite(connectionString, o => o.PollInterval = TimeSpan.FromMilliseconds(20)); // synchronous FULL: the default
    // Idempotency is the handlers' own (in their transaction), so every redelivery reaches them and is counted.
    h.AddHandler<AlphaEffect, Counted>(o => { o.Name = "alpha"; o.Idempotent = false; o.Concurrency = 2; });
    h.AddHandler<BetaEffect, Counted>(o => { o.Name = "beta"; o.Idempotent = false; o.OrderedByKey = true; o.Concurrency = 3; });
});

using IHost host = builder.Build();
await host.StartAsync(); // Herald creates (or checks and migrates) its file first; the child's own tables go next to its tables
using (var setup = new SqliteConnection(connectionString))
{
    setup.Open();
    using SqliteCommand create = setup.CreateCommand();
    create.CommandText = """
        PRAGMA busy_timeout = 10000;
        CREATE TABLE IF NOT EXISTS effects (grp TEXT NOT NULL, number INTEGER NOT NULL, applied INTEGER NOT NULL, PRIMARY KEY (grp, number));
        CREATE TABLE IF NOT EXISTS deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, grp TEXT NOT NULL, number INTEGER NOT NULL, duplicate INTEGER NOT NULL);
        """;
    create.ExecuteNonQuery();
}

Console.WriteLine("READY");
EventBus bus = host.Services.GetRequiredService<EventBus>();

if (drain)
{
    using var connection = new SqliteConnection(connectionString);
    connection.Open();
    using SqliteCommand behind = connection.CreateCommand();
    behind.CommandText = "SELECT count(*) FROM herald_groups WHERE name IN ('alpha', 'beta') AND checkpoint < (SELECT coalesce(max(position), 0) FROM herald_messages)";
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
    while ((long)behind.ExecuteScalar()! > 0)
    {
        await Task.Delay(50, timeout.Token);
    }

    await host.StopAsync();
    Console.WriteLine("DRAINED");
    return 0;
}

long first = long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
long count = long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
const int Publishers = 4;
CancellationToken stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
await Task.WhenAll(Enumerable.Range(0, Publishers).Select(p => Task.Run(async () =>
{
    for (long n = first + p; n < first + count && !stopping.IsCancellationRequested; n += Publishers)
    {
        Console.WriteLine($"A {n}");
        var envelope = new Envelope(Counted.Topic, new Counted(n), TimeProvider.System.GetUtcNow()) { Id = $"n-{n}", Subject = $"k{n % 7}" };
        await bus.PublishAsync(envelope);
        Console.WriteLine($"P {n}");
        await Task.Delay(1); // paced, so kills land while publishing, while consuming, and in between
    }
})));

Console.WriteLine("PUBLISHED");
await host.WaitForShutdownAsync(); // keep consuming until killed
return 0;
