// The broker fault-test child: `Herald.RabbitChild <amqp-uri> <exchange> <queue-prefix>` (RabbitMQ) or
// `Herald.RabbitChild <nats-url> <stream> <subject-prefix> <ack-wait-seconds> [ordered]` (NATS JetStream) joins consumer group
// "workers" for user.created with a slow handler (50 ms, 4 at a time) and prints "READY" once consuming, "R <id>" when a
// handler starts on user <id> and "H <id>" when it finished. The test kills it with SIGKILL in the middle.
using Herald;
using Herald.RabbitChild;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Services.AddHerald(h =>
{
    if (args[0].StartsWith("nats://", StringComparison.Ordinal))
    {
        h.UseNats(args[0], o => { o.Stream = args[1]; o.SubjectPrefix = args[2]; o.AckWait = TimeSpan.FromSeconds(int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture)); });
    }
    else
    {
        h.UseRabbitMQ(args[0], o => { o.Exchange = args[1]; o.QueuePrefix = args[2]; });
    }

    // NATS only: a fifth argument "ordered" makes the handler ordered by key (the group's lease decides the active member).
    bool ordered = args.Length > 4 && args[4] == "ordered";
    h.AddHandler<SlowWorker, UserCreated>(o => { o.Group = "workers"; o.Concurrency = 4; o.OrderedByKey = ordered; });
});

using IHost host = builder.Build();
await host.StartAsync();
Console.WriteLine("READY");
await host.WaitForShutdownAsync();
