// Herald's Registration sample: one user.created event fans out to email, points and risk, plus an audit
// subscriber on the wildcard user.*. Risk is deliberately slow and uses DropOldest, so the table shows drops
// that are counted, never silent. Everything else uses Wait and receives every event.
using System.Diagnostics;
using System.Globalization;
using Herald;
using Microsoft.Extensions.Logging;
using Registration;

int count = args.Length > 0 && int.TryParse(args[0], CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 100_000;

using ILoggerFactory logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Error));
await using var bus = new EventBus(new EventBusOptions { Name = "registration", LoggerFactory = logging });

// Publish timestamps by user id, so a handler can measure publish-to-handle latency without a clock call per publish.
long[] publishedAt = new long[count];
var latency = new Dictionary<string, LatencyRecorder>();
LatencyRecorder Recorder(string name) => latency[name] = new LatencyRecorder(count);

await using Subscription<UserCreated> email = bus.Subscribe<UserCreated>(new SubscriptionOptions { Name = "email", Group = "email", Capacity = 1024 });
await using Subscription<UserCreated> points = bus.Subscribe<UserCreated>(new SubscriptionOptions { Name = "points", Group = "points", Capacity = 1024, Lanes = 4 });
await using Subscription<UserCreated> risk = bus.Subscribe<UserCreated>(new SubscriptionOptions { Name = "risk", Group = "risk", Capacity = 1024, Overflow = Overflow.DropOldest });
await using Subscription<object> audit = bus.Subscribe("user.*", new SubscriptionOptions { Name = "audit (user.*)", Capacity = 1024 });

using var stop = new CancellationTokenSource();
LatencyRecorder emailLatency = Recorder("email"), pointsLatency = Recorder("points"), riskLatency = Recorder("risk"), auditLatency = Recorder("audit (user.*)");
long mailsSent = 0, pointsAwarded = 0;

// Email: a pull loop the caller owns.
Task emailLoop = Task.Run(async () =>
{
    await foreach (EventContext<UserCreated> e in email.ReadAllAsync(stop.Token))
    {
        mailsSent++;
        emailLatency.Record(publishedAt[e.Event.Id]);
    }
});

// Points: four lanes in parallel, ordered per user key.
Task pointsLoop = points.ConsumeAsync(
    (e, _) =>
    {
        Interlocked.Add(ref pointsAwarded, 10);
        pointsLatency.Record(publishedAt[e.Event.Id]);
        return ValueTask.CompletedTask;
    },
    stop.Token);

// Risk: deliberately slow (a 20 µs score per user); with DropOldest it keeps the newest users and counts the rest.
Task riskLoop = Task.Run(async () =>
{
    await foreach (EventContext<UserCreated> e in risk.ReadAllAsync(stop.Token))
    {
        long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 50_000;
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(20);
        }

        riskLatency.Record(publishedAt[e.Event.Id]);
    }
});

// Audit: the wildcard subscriber, untyped.
Task auditLoop = Task.Run(async () =>
{
    await foreach (EventContext<object> e in audit.ReadAllAsync(stop.Token))
    {
        auditLatency.Record(publishedAt[((UserCreated)e.Event).Id]);
    }
});

Console.WriteLine($"Herald Registration sample: publishing {count:N0} user.created events to email, points, risk (slow) and audit (user.*)...");
var clock = Stopwatch.StartNew();
DateTimeOffset createdAt = TimeProvider.System.GetUtcNow();
for (int i = 0; i < count; i++)
{
    publishedAt[i] = Stopwatch.GetTimestamp();
    await bus.PublishAsync(new UserCreated(i, $"user{i}@example.com", createdAt), new PublishOptions { Key = $"user-{i % 1000}" });
}

TimeSpan publishTime = clock.Elapsed;

// Wait until every subscriber has handled or dropped everything (bounded: the sample must never hang).
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
foreach ((string name, LatencyRecorder recorder, Func<SubscriptionStats> stats) in new (string, LatencyRecorder, Func<SubscriptionStats>)[]
         {
             ("email", emailLatency, () => email.Stats), ("points", pointsLatency, () => points.Stats),
             ("risk", riskLatency, () => risk.Stats), ("audit", auditLatency, () => audit.Stats),
         })
{
    while (recorder.Count + stats().Dropped < count)
    {
        await Task.Delay(5, deadline.Token);
    }
}

TimeSpan totalTime = clock.Elapsed;
await stop.CancelAsync();
await Task.WhenAll(emailLoop, pointsLoop, riskLoop, auditLoop).ContinueWith(_ => { }, TaskScheduler.Default);

Console.WriteLine();
Console.WriteLine($"{"subscriber",-16} {"policy",-20} {"delivered",10} {"dropped",10} {"reason",-8} {"p50 µs",9} {"p99 µs",9}");
Console.WriteLine(new string('-', 88));
bool lost = false;
foreach ((string name, string policy, SubscriptionStats stats) in new[]
         {
             ("email", "Wait, 1024", email.Stats), ("points", "Wait, 4 lanes", points.Stats),
             ("risk", "DropOldest, 1024", risk.Stats), ("audit (user.*)", "Wait, 1024", audit.Stats),
         })
{
    LatencyRecorder recorder = latency[name];
    string reason = stats.DroppedOldest > 0 ? "oldest" : stats.Dropped > 0 ? "other" : "-";
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"{name,-16} {policy,-20} {stats.Delivered,10:N0} {stats.Dropped,10:N0} {reason,-8} {recorder.PercentileMicroseconds(50),9:N0} {recorder.PercentileMicroseconds(99),9:N0}"));
    lost |= stats.Delivered + stats.Dropped != count;
}

EventBusStats busStats = bus.Stats;
Console.WriteLine(new string('-', 88));
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"published {busStats.Published:N0} in {publishTime.TotalMilliseconds:N0} ms ({busStats.Published / publishTime.TotalSeconds:N0} events/s); all handled in {totalTime.TotalMilliseconds:N0} ms"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"emails sent {mailsSent:N0}, points awarded {pointsAwarded:N0}, unrouted {busStats.Unrouted}"));
Console.WriteLine(lost
    ? "LOST EVENTS: some subscriber neither received nor counted an event."
    : "No event lost: every event was delivered to each subscriber or counted as dropped by its policy.");
return lost ? 1 : 0;
