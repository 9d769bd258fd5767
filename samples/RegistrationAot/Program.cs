// The Registration scenario published with native AOT: user.created fans out to the Registration sample's four
// handlers (welcome mail, points by key, a risk check that retries and dead-letters, an audit pattern handler) on the
// embedded SQLite store (default) or on RabbitMQ (`--rabbitmq amqp://...`). JSON goes through a source-generated
// context. It exits 0 when each handler settled every event (handled or dead-lettered with its reason), 1 otherwise.
//
// Usage: RegistrationAot [count] [--rabbitmq uri] [--db path]
using System.Diagnostics;
using System.Globalization;
using Herald;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Registration;

int rabbitArg = Array.IndexOf(args, "--rabbitmq");
string? rabbitUri = rabbitArg >= 0 && rabbitArg + 1 < args.Length ? args[rabbitArg + 1] : null;
int dbArg = Array.IndexOf(args, "--db");
string dbPath = dbArg >= 0 && dbArg + 1 < args.Length ? args[dbArg + 1] : Path.Combine(AppContext.BaseDirectory, "herald-aot.db");
int count = args.FirstOrDefault(a => int.TryParse(a, CultureInfo.InvariantCulture, out _)) is { } c ? int.Parse(c, CultureInfo.InvariantCulture) : 10_000;
string connectionString = $"Data Source={dbPath}";
var json = new SystemTextJsonEventSerializer(RegistrationJson.Default.Options);

long first = rabbitUri is null ? SampleState.NextUserId(connectionString) : 0;
HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning).AddFilter("Herald", LogLevel.Critical);
builder.Services.AddSingleton(new Latencies(first, count)).AddSingleton<PointsLedger>();
builder.Services.AddHerald(h =>
{
    h.Bus.Name = "registration-aot";
    if (rabbitUri is not null)
    {
        h.UseRabbitMQ(rabbitUri, o => { o.QueuePrefix = "registration-aot."; o.Exchange = "registration-aot"; o.Serializer = json; });
    }
    else
    {
        h.UseSqlite(connectionString, o => o.Serializer = json);
    }

    h.AddRegistrationHandlers(); // Handlers.cs: welcome mail x8, points by key x4, risk check x16 with retries, audit on user.*
});

using IHost host = builder.Build();
await host.StartAsync();
EventBus bus = host.Services.GetRequiredService<EventBus>();
HandlerHost handlers = host.Services.GetRequiredService<HandlerHost>();
Latencies latencies = host.Services.GetRequiredService<Latencies>();
Console.WriteLine($"Herald Registration (native AOT) on {(rabbitUri is null ? dbPath : "RabbitMQ")}: publishing {count:N0} user.created events to 4 handlers...");

var clock = Stopwatch.StartNew();
DateTimeOffset createdAt = TimeProvider.System.GetUtcNow();
await Parallel.ForAsync(first, first + count, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, ct) =>
{
    latencies.Published(i);
    await bus.PublishAsync(new UserCreated(i, $"user{i}@example.com", createdAt), new PublishOptions { Key = $"user-{i % 1000}" }, ct);
});
TimeSpan publishTime = clock.Elapsed;

using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(300)))
{
    while (handlers.Consumers.Any(h => h.Stats.Handled + h.Stats.DeadLettered + h.Stats.Duplicates < count))
    {
        await Task.Delay(10, deadline.Token);
    }
}

TimeSpan totalTime = clock.Elapsed;
IReadOnlyList<DeadLetter> letters = await host.Services.GetRequiredService<DeadLetters>().ListAsync(max: int.MaxValue);
bool lost = false;
foreach (ConsumerInfo consumer in handlers.Consumers)
{
    long settled = consumer.Stats.Handled + consumer.Stats.DeadLettered + consumer.Stats.Duplicates;
    lost |= settled < count;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{consumer.Handler.Name,-18} handled {consumer.Stats.Handled,8:N0}  retried {consumer.Stats.Retried,6:N0}  dead {consumer.Stats.DeadLettered,4:N0}"));
}

await host.StopAsync();
if (rabbitUri is null)
{
    lost |= SampleState.Unaccounted(connectionString) > 0;
}

Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"published {count:N0} in {publishTime.TotalMilliseconds:N0} ms; all handled in {totalTime.TotalMilliseconds:N0} ms; points {host.Services.GetRequiredService<PointsLedger>().Total:N0}; dead letters {letters.Count:N0}"));
Console.WriteLine(lost ? "LOST EVENTS: some handler neither handled nor dead-lettered an event." : "No event lost: every event was handled by each handler or is in the dead letters with its reason.");
return lost ? 1 : 0;
