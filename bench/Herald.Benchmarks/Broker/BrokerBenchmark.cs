using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Herald.Benchmarks.Fanout;
using Herald.Benchmarks.Systems;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Herald.Benchmarks.Broker;

/// <summary>
/// `broker [--quick] [--runs N]`: Herald on RabbitMQ next to the raw RabbitMQ.Client doing the same work (the
/// ceiling): quorum queues, persistent messages, publisher confirms awaited per publish, the registration fan-out's
/// three consumers acknowledging each message after handling it. Starts a private broker on loopback with
/// eng/rabbitmq-local.sh (installing rabbitmq-server when missing) and stops it at the end. Writes the section between
/// the rabbitmq markers of docs/benchmarks.md (quick: docs/benchmarks.quick.md).
/// </summary>
internal static class BrokerBenchmark
{
    private const string Begin = "<!-- rabbitmq:begin (written by the broker command; edit outside these markers) -->";
    private const string End = "<!-- rabbitmq:end -->";
    // What Herald's RabbitMQ consumer asks for with Concurrency 1 (max(16, 10 x concurrency)): the raw consumers get the same.
    private const int Prefetch = 16;

    public static async Task<int> RunAsync(bool quick, int runs)
    {
        int single = quick ? 1_000 : 5_000;
        int many = quick ? 5_000 : 30_000;
        var scenarios = new (string Name, string What, int Events, Func<string, int, Task<(double Rate, double P50, double P99)>> Run)[]
        {
            ("raw-1-publisher", "raw RabbitMQ.Client: one publisher, each publish's confirm awaited", single, (uri, n) => RawAsync(uri, n, publishers: 1)),
            ("herald-1-publisher", "Herald: one publisher, `await PublishAsync` per event, three handlers through the default pipeline", single, (uri, n) => HeraldAsync(uri, n, publishers: 1)),
            ("masstransit-1-publisher", "MassTransit 8.5.9 on RabbitMQ: one publisher, `await Publish` per event, three consumers on their own quorum queues", single, (uri, n) => MassTransitAsync(uri, n, publishers: 1)),
            ("raw-32-publishers", "raw RabbitMQ.Client: 32 concurrent publishers on one channel", many, (uri, n) => RawAsync(uri, n, publishers: 32)),
            ("herald-32-publishers", "Herald: 32 concurrent publishers", many, (uri, n) => HeraldAsync(uri, n, publishers: 32)),
            ("masstransit-32-publishers", "MassTransit: 32 concurrent publishers", many, (uri, n) => MassTransitAsync(uri, n, publishers: 32)),
        };

        (string uri, Func<Task> stop) = await StartBrokerAsync();
        var results = new List<(string Name, string What, int Events, double Median, double Min, double Max, double P50, double P99)>();
        try
        {
            foreach ((string name, string what, int events, Func<string, int, Task<(double Rate, double P50, double P99)>> run) in scenarios)
            {
                var measured = new List<(double Rate, double P50, double P99)>();
                for (int i = 0; i < runs; i++)
                {
                    await run(uri, Math.Max(100, events / 10)); // warm-up, on its own queues
                    ReportSection.Quiesce();
                    (double rate, double p50, double p99) = await run(uri, events);
                    measured.Add((rate, p50, p99));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-22} run {i + 1}/{runs}: {rate,10:N0} events/s  p50 {p50,9:N0} µs  p99 {p99,9:N0} µs"));
                }

                double Median(Func<(double Rate, double P50, double P99), double> f) => measured.Select(f).Order().ElementAt(measured.Count / 2);
                results.Add((name, what, events, Median(m => m.Rate), measured.Min(m => m.Rate), measured.Max(m => m.Rate), Median(m => m.P50), Median(m => m.P99)));
            }
        }
        finally
        {
            await stop();
        }

        string report = Report(results, quick, runs);
        Console.WriteLine();
        Console.WriteLine(report);
        await ReportSection.WriteAsync(Begin, End, report, quick);
        return 0;
    }

    /// <summary>The raw client: a topic exchange, three quorum queues bound to user.created, a consumer on each that acknowledges after recording.</summary>
    private static async Task<(double Rate, double P50, double P99)> RawAsync(string uri, int events, int publishers)
    {
        string run = "bench-raw-" + Guid.NewGuid().ToString("N")[..8];
        var probe = new Probe(events);
        var factory = new ConnectionFactory { Uri = new Uri(uri) };
        await using IConnection connection = await factory.CreateConnectionAsync();
        await using IChannel publisher = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await publisher.ExchangeDeclareAsync(run, ExchangeType.Topic, durable: true, autoDelete: false);
        var consumers = new List<IChannel>();
        var quorum = new Dictionary<string, object?> { ["x-queue-type"] = "quorum" };
        for (int s = 0; s < Probe.Subscribers; s++)
        {
            int subscriber = s;
            string queue = $"{run}.{s}";
            IChannel channel = await connection.CreateChannelAsync();
            consumers.Add(channel);
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: quorum);
            await channel.QueueBindAsync(queue, run, "user.created");
            await channel.BasicQosAsync(0, Prefetch, global: false);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                UserCreated e = JsonSerializer.Deserialize<UserCreated>(delivery.Body.Span)!;
                probe.Record(subscriber, e);
                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            };
            await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
        }

        var properties = new BasicProperties { Persistent = true, ContentType = "application/json", Type = "user.created" };
        long start = Stopwatch.GetTimestamp();
        await PublishAllAsync(events, publishers, async i =>
        {
            byte[] body = JsonSerializer.SerializeToUtf8Bytes(new UserCreated(i, Email(i), Stopwatch.GetTimestamp()));
            await publisher.BasicPublishAsync(run, "user.created", mandatory: false, properties, body);
        });
        (double Rate, double P50, double P99) result = await FinishAsync(probe, events, start);
        foreach (IChannel channel in consumers)
        {
            await channel.DisposeAsync();
        }

        for (int s = 0; s < Probe.Subscribers; s++)
        {
            await publisher.QueueDeleteAsync($"{run}.{s}");
        }

        await publisher.ExchangeDeleteAsync(run);
        return result;
    }

    /// <summary>Herald: three handlers (the fan-out's email, points and risk) through the default pipeline, on RabbitMQ.</summary>
    private static async Task<(double Rate, double P50, double P99)> HeraldAsync(string uri, int events, int publishers)
    {
        string run = "bench-herald-" + Guid.NewGuid().ToString("N")[..8];
        var probe = new Probe(events);
        var services = new ServiceCollection();
        services.AddSingleton(probe);
        services.AddHerald(h =>
        {
            h.UseRabbitMQ(uri, o => { o.Exchange = run; o.QueuePrefix = run + "."; });
            h.AddHandler<Systems.HeraldHandlerSystem.EmailHandler, UserCreated>();
            h.AddHandler<Systems.HeraldHandlerSystem.PointsHandler, UserCreated>();
            h.AddHandler<Systems.HeraldHandlerSystem.RiskHandler, UserCreated>();
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        EventBus bus = provider.GetRequiredService<EventBus>();
        HandlerHost host = provider.GetRequiredService<HandlerHost>();
        await host.StartAsync(CancellationToken.None);
        await host.StartedAsync(CancellationToken.None);

        long start = Stopwatch.GetTimestamp();
        await PublishAllAsync(events, publishers, i => bus.PublishAsync(new UserCreated(i, Email(i), Stopwatch.GetTimestamp())).AsTask());
        (double Rate, double P50, double P99) result = await FinishAsync(probe, events, start);
        await host.StopAsync(CancellationToken.None);
        string[] groups = [$"{run}.EmailHandler", $"{run}.PointsHandler", $"{run}.RiskHandler"]; // QueuePrefix + group
        await DeleteAsync(uri, queues: [.. groups, .. groups.Select(g => g + ".dead-letter")], exchanges: [run]);
        return result;
    }

    /// <summary>MassTransit: the fan-out's three consumers, each on its own receive endpoint (a quorum queue at the same prefetch).</summary>
    private static async Task<(double Rate, double P50, double P99)> MassTransitAsync(string uri, int events, int publishers)
    {
        string run = "bench-mt-" + Guid.NewGuid().ToString("N")[..8];
        var probe = new Probe(events);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(probe);
        services.AddMassTransit(x =>
        {
            x.AddConsumer<MassTransitSystem.EmailConsumer>();
            x.AddConsumer<MassTransitSystem.PointsConsumer>();
            x.AddConsumer<MassTransitSystem.RiskConsumer>();
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(new Uri(uri));
                Endpoint<MassTransitSystem.EmailConsumer>(cfg, context, $"{run}.email");
                Endpoint<MassTransitSystem.PointsConsumer>(cfg, context, $"{run}.points");
                Endpoint<MassTransitSystem.RiskConsumer>(cfg, context, $"{run}.risk");
            });
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        IBusControl bus = provider.GetRequiredService<IBusControl>();
        await bus.StartAsync();

        long start = Stopwatch.GetTimestamp();
        await PublishAllAsync(events, publishers, i => bus.Publish(new UserCreated(i, Email(i), Stopwatch.GetTimestamp())));
        (double Rate, double P50, double P99) result = await FinishAsync(probe, events, start);
        await bus.StopAsync();

        string[] endpoints = [$"{run}.email", $"{run}.points", $"{run}.risk"]; // each a queue and its exchange
        await DeleteAsync(uri, queues: endpoints, exchanges: endpoints);
        return result;

        static void Endpoint<TConsumer>(IRabbitMqBusFactoryConfigurator cfg, IBusRegistrationContext context, string queue)
            where TConsumer : class, IConsumer
        {
            cfg.ReceiveEndpoint(queue, e =>
            {
                e.SetQuorumQueue();
                e.PrefetchCount = Prefetch;
                e.ConfigureConsumer<TConsumer>(context);
            });
        }
    }

    /// <summary>Deletes what a run declared, so runs do not pile up queues on the broker.</summary>
    private static async Task DeleteAsync(string uri, IEnumerable<string> queues, IEnumerable<string> exchanges)
    {
        var factory = new ConnectionFactory { Uri = new Uri(uri) };
        await using IConnection connection = await factory.CreateConnectionAsync();
        await using IChannel channel = await connection.CreateChannelAsync();
        foreach (string queue in queues)
        {
            await channel.QueueDeleteAsync(queue);
        }

        foreach (string exchange in exchanges)
        {
            await channel.ExchangeDeleteAsync(exchange);
        }
    }

    /// <summary><paramref name="publishers"/> workers, each awaiting its publish before the next: that many publishes in flight.</summary>
    internal static async Task PublishAllAsync(int events, int publishers, Func<int, Task> publish)
    {
        int next = -1;
        var tasks = new Task[publishers];
        for (int p = 0; p < publishers; p++)
        {
            tasks[p] = Task.Run(async () =>
            {
                for (int i = Interlocked.Increment(ref next); i < events; i = Interlocked.Increment(ref next))
                {
                    await publish(i);
                }
            });
        }

        await Task.WhenAll(tasks);
    }

    /// <summary>Waits (two minutes at most) until every subscriber has every event: the rate from <paramref name="start"/>, and the latency percentiles.</summary>
    internal static async Task<(double Rate, double P50, double P99)> FinishAsync(Probe probe, int events, long start)
    {
        if (await Task.WhenAny(probe.Done, Task.Delay(TimeSpan.FromMinutes(2))) != probe.Done)
        {
            throw new TimeoutException($"only {probe.Received} of {Probe.Subscribers * (long)events} deliveries arrived within 2 minutes");
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        (double p50, double p99, _) = probe.Percentiles();
        return (events / seconds, p50, p99);
    }

    internal static string Email(long i) => $"user{i}@example.com";

    /// <summary>Starts a private broker with eng/rabbitmq-local.sh in a temporary directory, on a free loopback port.</summary>
    private static async Task<(string Uri, Func<Task> Stop)> StartBrokerAsync()
    {
        string root = FanoutRunner.FindRepositoryRoot() ?? throw new InvalidOperationException("the broker benchmark runs from the repository (it starts RabbitMQ with eng/rabbitmq-local.sh)");
        string script = Path.Combine(root, "eng", "rabbitmq-local.sh");
        DirectoryInfo home = Directory.CreateTempSubdirectory("herald-bench-rabbitmq-");
        int port = FreePort();
        string output = await ScriptAsync(script, home.FullName, "start", port.ToString(CultureInfo.InvariantCulture));
        string uri = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).First(l => l.StartsWith("amqp://", StringComparison.Ordinal)).Trim();
        Console.WriteLine($"RabbitMQ started at {uri}");
        return (uri, async () =>
        {
            await ScriptAsync(script, home.FullName, "stop");
            home.Delete(recursive: true);
        });
    }

    /// <summary>Runs an eng/ script with <c>TMPDIR</c> and the working directory in <paramref name="home"/>; its output, or an exception with its error.</summary>
    internal static async Task<string> ScriptAsync(string script, string home, params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["TMPDIR"] = home; // the script keeps the server's files under $TMPDIR
        start.WorkingDirectory = home; // and a crash dump, if the server fails to start, lands there too
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0
            ? await stdout
            : throw new InvalidOperationException($"eng/{Path.GetFileName(script)} {string.Join(' ', args)} exited {process.ExitCode}: {(await stderr).Trim()}");
    }

    /// <summary>
    /// A port for AMQP whose neighbours the script also takes (management +10000, distribution +20000) are free too
    /// and stay below 65536: ephemeral ports from the kernel would overflow the distribution port.
    /// </summary>
    private static int FreePort()
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int port = Random.Shared.Next(20_000, 45_000);
            if (IsFree(port) && IsFree(port + 10_000) && IsFree(port + 20_000))
            {
                return port;
            }
        }

        throw new InvalidOperationException("no free port between 20000 and 45000 (with +10000 and +20000 free) for the benchmark's RabbitMQ");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static string Report(List<(string Name, string What, int Events, double Median, double Min, double Max, double P50, double P99)> results, bool quick, int runs)
    {
        StringBuilder md = ReportSection.Start(
            Begin,
            $"On RabbitMQ: Herald next to the raw client{(quick ? " (quick mode)" : string.Empty)}",
            ReportSection.Command("broker", quick, runs),
            "; RabbitMQ from Debian's rabbitmq-server on 127.0.0.1, on the same cores",
            string.Create(CultureInfo.InvariantCulture, $"{runs} runs per scenario, each on fresh queues after a warm-up on others; quorum queues, persistent messages, publisher confirms awaited per publish, three consumers (prefetch {Prefetch}) acknowledging after handling; events/s until all three have every event; latency from publish to handler; medians and min-max."));
        md.AppendLine("| scenario | what | events | events/s (median) | min-max | p50 µs | p99 µs |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {r.What} | {r.Events:N0} | {r.Median:N0} | {r.Min:N0}-{r.Max:N0} | {r.P50:N0} | {r.P99:N0} |");
        }

        double Get(string name) => results.FirstOrDefault(r => r.Name == name).Median;
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Herald / raw: one publisher {Get("herald-1-publisher") / Get("raw-1-publisher"):0.00}x, 32 publishers {Get("herald-32-publishers") / Get("raw-32-publishers"):0.00}x. "
            + $"Herald / MassTransit: one publisher {Get("herald-1-publisher") / Get("masstransit-1-publisher"):0.00}x, 32 publishers {Get("herald-32-publishers") / Get("masstransit-32-publishers"):0.00}x.");
        md.Append(End);
        return md.ToString();
    }
}
