// The PostgreSQL crash-test child, killed with SIGKILL at random by the test:
// `Herald.PostgresChild consume <connection-string> <schema> <member>` joins group "workers" for user.created and
//   applies each event once: the inbox record and the effect row (effects: event_id, user_id, member) in one transaction;
//   prints "READY" once consuming.
// `Herald.PostgresChild publish <connection-string> <schema> <from> <to>` publishes users from..to-1 (keyed), printing
//   "P <id>" once each publish is committed, and "DONE" at the end.
using Herald;
using Herald.PostgresChild;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

string mode = args[0];
HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Services.AddSingleton(new Member(mode == "consume" ? args[3] : "publisher", args[1]));
builder.Services.AddHerald(h =>
{
    h.UsePostgres(args[1], o =>
    {
        o.Schema = args[2];
        o.ClaimLease = TimeSpan.FromSeconds(2);
        o.PollInterval = TimeSpan.FromMilliseconds(50);
    });
    if (mode == "consume")
    {
        h.AddHandler<ApplyOnce, UserCreated>(o => { o.Group = "workers"; o.Concurrency = 4; });
    }
});

using IHost host = builder.Build();
await host.StartAsync();
if (mode == "consume")
{
    Console.WriteLine("READY");
    await host.WaitForShutdownAsync();
    return;
}

EventBus bus = host.Services.GetRequiredService<EventBus>();
long from = long.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
long to = long.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture);
for (long id = from; id < to; id++)
{
    await bus.PublishAsync(new UserCreated(id, $"u{id}@example.com", DateTimeOffset.UnixEpoch), new PublishOptions { Key = $"k{id % 16}" });
    Console.WriteLine($"P {id}");
}

Console.WriteLine("DONE");
await host.StopAsync();
