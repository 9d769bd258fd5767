using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Herald.Benchmarks.Fanout;
using Herald.Benchmarks.Systems;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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

    public static async Task<int> RunAsync(bool quick, int runs, string[] only)
    {
        int single = quick ? 1_000 : 5_000;
        int many = quick ? 5_000 : 30_000;
        var scenarios = new (string Name, string What, int Events, Func<string, int, Task<BrokerRun>> Run)[]
        {
            ("raw-1-publisher", "raw RabbitMQ.Client: one publisher, each publish's confirm awaited", single, (uri, n) => RawAsync(uri, n, publishers: 1)),
            ("herald-1-publisher", "Herald: one publisher, `await PublishAsync` per event, three handlers through the default pipeline", single, (uri, n) => HeraldAsync(uri, n, publishers: 1)),
            ("masstransit-1-publisher", "MassTransit 8.5.9 on RabbitMQ: one publisher, `await Publish` per event, three consumers on their own quorum queues", single, (uri, n) => MassTransitAsync(uri, n, publishers: 1)),
            ("raw-32-publishers", "raw RabbitMQ.Client: 32 concurrent publishers on one channel", many, (uri, n) => RawAsync(uri, n, publishers: 32)),
            ("herald-32-publishers", "Herald: 32 concurrent publishers", many, (uri, n) => HeraldAsync(uri, n, publishers: 32)),
            ("masstransit-32-publishers", "MassTransit: 32 concurrent publishers", many, (uri, n) => MassTransitAsync(uri, n, publishers: 32)),
            ("raw-publish-256", "raw RabbitMQ.Client, publishing only: 256 concurrent publishers on one channel (256 confirms outstanding) into the three bound quorum queues, no consumer running", many, (uri, n) => PublishOnlyAsync(uri, n, herald: false)),
            ("raw-publish-256-ce-headers", "raw RabbitMQ.Client publishing only, as above, each message the one Herald sends (its CloudEvents AMQP headers and properties; like for like, not the target's reference)", many, (uri, n) => PublishOnlyAsync(uri, n, herald: false, cloudEvents: true)),
            ("herald-publish-256", "Herald (default host, default options), publishing only: 256 concurrent `await PublishAsync` into the same three bound queues, no consumer running", many, (uri, n) => PublishOnlyAsync(uri, n, herald: true)),
            ("raw-256-publishers", "raw RabbitMQ.Client: 256 concurrent publishers on one channel (256 confirms outstanding)", many, (uri, n) => RawAsync(uri, n, publishers: 256)),
            ("herald-256-publishers", "Herald: 256 concurrent publishers", many, (uri, n) => HeraldAsync(uri, n, publishers: 256)),
            ("masstransit-256-publishers", "MassTransit: 256 concurrent publishers", many, (uri, n) => MassTransitAsync(uri, n, publishers: 256)),
        };

        (string uri, Func<Task> stop) = await StartBrokerAsync();
        var results = new List<(string Name, string What, int Events, BrokerRun Median, double Min, double Max)>();
        var rounds = new Dictionary<string, List<BrokerRun>>();
        try
        {
            // Runs interleaved: each round runs every scenario once, so a scenario and its reference share the
            // machine's slow and fast moments (and the broker's state) instead of one of them getting all of either.
            var chosen = scenarios.Where(s => only.Length == 0 || only.Contains(s.Name)).ToList();
            foreach (var scenario in chosen)
            {
                rounds[scenario.Name] = [];
            }

            for (int i = 0; i < runs; i++)
            {
                foreach ((string name, string _, int events, Func<string, int, Task<BrokerRun>> run) in chosen)
                {
                    await run(uri, Math.Max(100, events / 10)); // warm-up, on its own queues
                    ReportSection.Quiesce();
                    BrokerRun measured = await run(uri, events);
                    rounds[name].Add(measured);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-28} run {i + 1}/{runs}: {measured.Rate,8:N0} events/s handled, {measured.PublishRate,8:N0}/s published  p50 {measured.P50,11:N0} µs  p99 {measured.P99,11:N0} µs"));
                }
            }

            foreach ((string name, string what, int events, Func<string, int, Task<BrokerRun>> _) in chosen)
            {
                List<BrokerRun> m = rounds[name];
                double Median(Func<BrokerRun, double> f) => m.Select(f).Order().ElementAt(m.Count / 2);
                results.Add((name, what, events, new BrokerRun(Median(r => r.Rate), Median(r => r.PublishRate), Median(r => r.P50), Median(r => r.P99)), m.Min(r => r.Rate), m.Max(r => r.Rate)));
            }
        }
        finally
        {
            await stop();
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

    /// <summary>One run: events/s until every consumer had every event, events/s until every publish was confirmed, latency percentiles.</summary>
    private readonly record struct BrokerRun(double Rate, double PublishRate, double P50, double P99);

    /// <summary>Publishes with <paramref name="publishers"/> in flight, then waits until every consumer had every event.</summary>
    private static async Task<BrokerRun> MeasureAsync(Probe probe, int events, int publishers, Func<int, Task> publish)
    {
        long start = Stopwatch.GetTimestamp();
        await PublishAllAsync(events, publishers, publish);
        double publishRate = events / Stopwatch.GetElapsedTime(start).TotalSeconds;
        (double rate, double p50, double p99) = await FinishAsync(probe, events, start);
        return new BrokerRun(rate, publishRate, p50, p99);
    }

    /// <summary>The raw client: a topic exchange, three quorum queues bound to user.created, a consumer on each that acknowledges after recording.</summary>
    private static async Task<BrokerRun> RawAsync(string uri, int events, int publishers)
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
        BrokerRun result = await MeasureAsync(probe, events, publishers, async i =>
        {
            byte[] body = JsonSerializer.SerializeToUtf8Bytes(new UserCreated(i, Email(i), Stopwatch.GetTimestamp()));
            await publisher.BasicPublishAsync(run, "user.created", mandatory: false, properties, body);
        });
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

    /// <summary>
    /// Publishing alone, 256 in flight, into a topic exchange with three quorum queues bound (as the three groups'
    /// would be) and no consumer running, so the publishers have the machine to themselves: the raw client, or Herald
    /// in a default host with no handlers (the queues declared beforehand, as by the consumer processes of a system).
    /// </summary>
    private static async Task<BrokerRun> PublishOnlyAsync(string uri, int events, bool herald, bool cloudEvents = false)
    {
        const int Publishers = 256;
        string run = (herald ? "bench-hpub-" : "bench-rpub-") + Guid.NewGuid().ToString("N")[..8];
        var factory = new ConnectionFactory { Uri = new Uri(uri) };
        await using IConnection connection = await factory.CreateConnectionAsync();
        await using IChannel publisher = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await publisher.ExchangeDeclareAsync(run, ExchangeType.Topic, durable: true, autoDelete: false); // as Herald declares its exchange
        var quorum = new Dictionary<string, object?> { ["x-queue-type"] = "quorum" };
        string[] queues = [.. Enumerable.Range(0, Probe.Subscribers).Select(q => $"{run}.{q}")];
        foreach (string queue in queues)
        {
            await publisher.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: quorum);
            await publisher.QueueBindAsync(queue, run, "user.created");
        }

        double rate;
        if (herald)
        {
            HostApplicationBuilder builder = Host.CreateApplicationBuilder();
            builder.Services.AddHerald(h => h.UseRabbitMQ(uri, o => { o.Exchange = run; o.QueuePrefix = run + "."; }));
            using IHost host = builder.Build();
            await host.StartAsync();
            EventBus bus = host.Services.GetRequiredService<EventBus>();
            long start = Stopwatch.GetTimestamp();
            await PublishAllAsync(events, Publishers, i => bus.PublishAsync(new UserCreated(i, Email(i), Stopwatch.GetTimestamp())).AsTask());
            rate = events / Stopwatch.GetElapsedTime(start).TotalSeconds;
            await host.StopAsync();
        }
        else
        {
            var properties = new BasicProperties { Persistent = true, ContentType = "application/json", Type = "user.created" };
            var serializer = new SystemTextJsonEventSerializer();
            long start = Stopwatch.GetTimestamp();
            await PublishAllAsync(events, Publishers, async i =>
            {
                var user = new UserCreated(i, Email(i), Stopwatch.GetTimestamp());
                if (cloudEvents)
                {
                    DateTimeOffset now = TimeProvider.System.GetUtcNow();
                    var envelope = new Envelope("user.created", user, now, UuidV7.New(now)) { Source = "urn:herald:herald" };
                    (BasicProperties ce, ReadOnlyMemory<byte> payload) = Herald.RabbitMQ.AmqpCloudEvents.Encode(envelope, serializer);
                    await publisher.BasicPublishAsync(run, "user.created", mandatory: false, ce, payload);
                }
                else
                {
                    await publisher.BasicPublishAsync(run, "user.created", mandatory: false, properties, JsonSerializer.SerializeToUtf8Bytes(user));
                }
            });
            rate = events / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        foreach (string queue in queues)
        {
            uint stored = await publisher.MessageCountAsync(queue);
            if (stored != events)
            {
                throw new InvalidOperationException($"queue {queue} holds {stored} messages after {events} confirmed publishes");
            }

            await publisher.QueueDeleteAsync(queue);
        }

        await publisher.ExchangeDeleteAsync(run);
        return new BrokerRun(rate, rate, double.NaN, double.NaN);
    }

    /// <summary>Herald as users run it: a default Generic Host (its logging), three handlers (the fan-out's email, points and risk) through the default pipeline, on RabbitMQ with default options.</summary>
    private static async Task<BrokerRun> HeraldAsync(string uri, int events, int publishers)
    {
        string run = "bench-herald-" + Guid.NewGuid().ToString("N")[..8];
        var probe = new Probe(events);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(probe);
        builder.Services.AddHerald(h =>
        {
            h.UseRabbitMQ(uri, o => { o.Exchange = run; o.QueuePrefix = run + "."; });
            h.AddHandler<Systems.HeraldHandlerSystem.EmailHandler, UserCreated>();
            h.AddHandler<Systems.HeraldHandlerSystem.PointsHandler, UserCreated>();
            h.AddHandler<Systems.HeraldHandlerSystem.RiskHandler, UserCreated>();
        });
        using IHost host = builder.Build();
        await host.StartAsync();
        EventBus bus = host.Services.GetRequiredService<EventBus>();
        BrokerRun result = await MeasureAsync(probe, events, publishers, i => bus.PublishAsync(new UserCreated(i, Email(i), Stopwatch.GetTimestamp())).AsTask());
        await host.StopAsync();
        string[] groups = [$"{run}.EmailHandler", $"{run}.PointsHandler", $"{run}.RiskHandler"]; // QueuePrefix + group
        await DeleteAsync(uri, queues: [.. groups, .. groups.Select(g => g + ".dead-letter")], exchanges: [run]);
        return result;
    }

    /// <summary>MassTransit: the fan-out's three consumers, each on its own receive endpoint (a quorum queue at the same prefetch).</summary>
    private static async Task<BrokerRun> MassTransitAsync(string uri, int events, int publishers)
    {
        string run = "bench-mt-" + Guid.NewGuid().ToString("N")[..8];
        var probe = new Probe(events);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(); // the same host setup as Herald's
        builder.Services.AddSingleton(probe);
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true); // as bus.StartAsync: the queues are bound before the first publish
        builder.Services.AddMassTransit(x =>
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
        using IHost host = builder.Build();
        await host.StartAsync(); // MassTransit's hosted service starts the bus
        IBus bus = host.Services.GetRequiredService<IBus>();
        BrokerRun result = await MeasureAsync(probe, events, publishers, i => bus.Publish(new UserCreated(i, Email(i), Stopwatch.GetTimestamp())));
        await host.StopAsync();

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

    private static string Report(List<(string Name, string What, int Events, BrokerRun Median, double Min, double Max)> results, Dictionary<string, List<BrokerRun>> rounds, bool quick, int runs)
    {
        StringBuilder md = ReportSection.Start(
            Begin,
            $"On RabbitMQ: Herald next to the raw client{(quick ? " (quick mode)" : string.Empty)}",
            ReportSection.Command("broker", quick, runs),
            "; RabbitMQ from Debian's rabbitmq-server on 127.0.0.1, on the same cores",
            string.Create(CultureInfo.InvariantCulture, $"{runs} rounds, each running every scenario once (interleaved) on fresh queues after a warm-up on others; quorum queues, persistent messages, publisher confirms awaited per publish (N publishers: N confirms outstanding), three consumers (prefetch {Prefetch}) acknowledging after handling; Herald and MassTransit each in a default Generic Host (its logging) with default options; handled: events/s until all three consumers have every event; published: events/s until every publish was confirmed; latency from publish to handler; medians and min-max."));
        md.AppendLine("| scenario | what | events | handled events/s (median) | min-max | published events/s (median) | p50 µs | p99 µs |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {r.What} | {r.Events:N0} | {r.Median.Rate:N0} | {r.Min:N0}-{r.Max:N0} | {r.Median.PublishRate:N0} | {r.Median.P50:N0} | {r.Median.P99:N0} |");
        }

        md.AppendLine();
        ReportSection.RatioHeader(md);
        void Ratio(string target, string a, string b, Func<BrokerRun, double> f, double bound) =>
            ReportSection.Ratio(md, target, rounds.GetValueOrDefault(a)?.Select(f).ToList(), rounds.GetValueOrDefault(b)?.Select(f).ToList(), bound);

        Ratio("256 publishers: Herald's publishes >= 0.90x the raw client's with 256 confirms outstanding (publishing only)", "herald-publish-256", "raw-publish-256", r => r.PublishRate, 0.90);
        Ratio("(no target) publishing only, Herald next to the raw client sending the same messages", "herald-publish-256", "raw-publish-256-ce-headers", r => r.PublishRate, 0);
        Ratio("(no target) publishing only, the raw client with Herald's messages next to its bare self", "raw-publish-256-ce-headers", "raw-publish-256", r => r.PublishRate, 0);
        Ratio("(no target) the same with the three consumers running (published events/s)", "herald-256-publishers", "raw-256-publishers", r => r.PublishRate, 0);
        Ratio("256 publishers, end to end: Herald >= 2x MassTransit (same publishers and prefetch)", "herald-256-publishers", "masstransit-256-publishers", r => r.Rate, 2.0);
        Ratio("(no target) 256 publishers, end to end: Herald vs raw", "herald-256-publishers", "raw-256-publishers", r => r.Rate, 0);
        Ratio("(no target) 256 publishers, end to end: the raw client vs MassTransit (the most any library on this broker could show)", "raw-256-publishers", "masstransit-256-publishers", r => r.Rate, 0);
        Ratio("(no target) 32 publishers, end to end: Herald vs raw", "herald-32-publishers", "raw-32-publishers", r => r.Rate, 0);
        Ratio("(no target) 32 publishers, end to end: Herald vs MassTransit", "herald-32-publishers", "masstransit-32-publishers", r => r.Rate, 0);
        Ratio("(no target) one publisher, end to end: Herald vs raw", "herald-1-publisher", "raw-1-publisher", r => r.Rate, 0);
        Ratio("(no target) one publisher, end to end: Herald vs MassTransit", "herald-1-publisher", "masstransit-1-publisher", r => r.Rate, 0);
        md.Append(End);
        return md.ToString();
    }
}
