// Herald's Registration sample: user.created fans out to four handlers run by the Herald host:
//   SendWelcomeEmail  slow (20 µs of work per user), 8 at a time
//   AwardPoints       ordered per user (key), 4 lanes
//   RiskCheck         fails transiently for ids ending in 3 (retried) and for good for ids ending in 007 (dead-lettered)
//   AuditTrail        a pattern handler on user.*
// It prints what each handler did, then the dead letters, and exits 1 if any event is unaccounted for.
using System.Diagnostics;
using System.Globalization;
using Herald;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Registration;

int count = args.Length > 0 && int.TryParse(args[0], CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 100_000;

HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Herald", LogLevel.Critical); // retries and dead letters are summarised in the table below
builder.Services.AddSingleton(new Latencies(count)).AddSingleton<PointsLedger>();
builder.Services.AddHerald(h =>
{
    h.Bus.Name = "registration";
    h.AddHandler<SendWelcomeEmail, UserCreated>(o => { o.Concurrency = 8; o.Timeout = TimeSpan.FromSeconds(5); });
    h.AddHandler<AwardPoints, UserCreated>(o => { o.Concurrency = 4; o.OrderedByKey = true; });
    h.AddHandler<RiskCheck, UserCreated>(o => { o.Concurrency = 16; o.Retry = Retry.Exponential(maxAttempts: 3, initial: TimeSpan.FromMilliseconds(1)); });
    h.AddHandler<AuditTrail>("user.*");
});

using IHost host = builder.Build();
await host.StartAsync();
EventBus bus = host.Services.GetRequiredService<EventBus>();
HandlerHost handlers = host.Services.GetRequiredService<HandlerHost>();
Latencies latencies = host.Services.GetRequiredService<Latencies>();

Console.WriteLine($"Herald Registration sample: publishing {count:N0} user.created events to 4 handlers...");
var clock = Stopwatch.StartNew();
DateTimeOffset createdAt = TimeProvider.System.GetUtcNow();
for (int i = 0; i < count; i++)
{
    latencies.Published(i);
    await bus.PublishAsync(new UserCreated(i, $"user{i}@example.com", createdAt), new PublishOptions { Key = $"user-{i % 1000}" });
}

TimeSpan publishTime = clock.Elapsed;

// Wait until every handler has handled or dead-lettered every event (bounded: the sample never hangs).
using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
{
    while (handlers.Consumers.Any(c => c.Stats.Handled + c.Stats.DeadLettered + c.Queue.Dropped < count))
    {
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
foreach (ConsumerInfo c in consumers)
{
    HandlerOptions o = c.Handler.Options;
    string options = $"x{o.Concurrency}{(o.OrderedByKey ? " by key" : string.Empty)}, {o.Retry.MaxAttempts} tries";
    LatencyRecorder recorder = latencies.For(c.Handler.Name);
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"{c.Handler.Name,-18} {options,-24} {c.Stats.Handled,9:N0} {c.Stats.Retried,8:N0} {c.Stats.DeadLettered,6:N0} {c.Queue.Dropped,8:N0} {recorder.PercentileMicroseconds(50),8:N0} {recorder.PercentileMicroseconds(99),9:N0}"));
    lost |= c.Stats.Handled + c.Stats.DeadLettered + c.Queue.Dropped != count;
}

EventBusStats stats = bus.Stats;
Console.WriteLine(new string('-', 96));
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"published {stats.Published:N0} in {publishTime.TotalMilliseconds:N0} ms ({stats.Published / publishTime.TotalSeconds:N0} events/s); all handled in {totalTime.TotalMilliseconds:N0} ms"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"points awarded {host.Services.GetRequiredService<PointsLedger>().Total:N0}; shutdown left {handlers.LastShutdown?.TotalLeft ?? 0} undelivered"));

Console.WriteLine();
Console.WriteLine($"Dead letters: {letters.Count}");
foreach (DeadLetter letter in letters.Take(5))
{
    Console.WriteLine($"  {letter.Time:HH:mm:ss.fff} {letter.Consumer} {letter.Envelope.Type} key={letter.Envelope.Subject} {letter.Reason} after {letter.Attempts}: {letter.ExceptionMessage}");
}

if (letters.Count > 5)
{
    Console.WriteLine($"  ... and {letters.Count - 5} more (same reason)");
}

Console.WriteLine(lost
    ? "LOST EVENTS: some handler neither handled, dead-lettered nor counted an event."
    : "No event lost: every event was handled by each handler or is in the dead letters with its reason.");
return lost ? 1 : 0;
