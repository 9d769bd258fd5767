using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Herald.Benchmarks.Fanout;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Herald.Benchmarks.Broker;

/// <summary>
/// `nats [--quick] [--runs N]`: Herald on NATS JetStream next to the raw NATS.Net client doing the same work, on one
/// private nats-server (eng/nats-local.sh, installing nats-server when missing; stopped at the end):
/// publish alone (64 acknowledgements in flight, each publish awaited until JetStream stored it, the event id as
/// Nats-Msg-Id), and publish to handler end to end (the registration fan-out's three consumer groups, each a durable
/// pull consumer acknowledging explicitly after handling). Herald runs in a default Generic Host with its logging and
/// default options. Writes the section between the nats markers of docs/benchmarks.md (quick: docs/benchmarks.quick.md).
/// </summary>
internal static class NatsBenchmark
{
    private const string Begin = "<!-- nats:begin (written by the nats command; edit outside these markers) -->";
    private const string End = "<!-- nats:end -->";
    private const int InFlight = 64;

    public static async Task<int> RunAsync(bool quick, int runs, string[] only)
    {
        int events = quick ? 5_000 : 20_000;
        var scenarios = new (string Name, string What, Func<string, int, Task<(double Rate, double P50, double P99)>> Run)[]
        {
            ("raw-publish", $"raw NATS.Net: {InFlight} JetStream publishes in flight, each acknowledged (stored), Nats-Msg-Id set, a durable consumer on the subject as in Herald's run", (url, n) => RawPublishAsync(url, n, cloudEventHeaders: false)),
            ("raw-publish-ce-headers", "raw NATS.Net: the same, carrying the six ce- headers Herald writes (like for like, not the target's reference)", (url, n) => RawPublishAsync(url, n, cloudEventHeaders: true)),
            ("herald-publish", $"Herald: {InFlight} concurrent `await PublishAsync`, each completing when JetStream stored it", (url, n) => HeraldPublishAsync(url, n)),
            ("raw-end-to-end", $"raw NATS.Net: the same publishes, three durable pull consumers (Herald's windows: 64 a pull, 256 unacknowledged) deserializing and acknowledging each message", (url, n) => RawEndToEndAsync(url, n)),
            ("herald-end-to-end", "Herald: the same publishes, three handlers through the default pipeline (inbox, retries, timeouts, metrics)", (url, n) => HeraldEndToEndAsync(url, n)),
        };

        (string url, Func<Task> stop) = await StartServerAsync();
        var results = new List<(string Name, string What, double Median, double Min, double Max, double P50, double P99)>();
        var rounds = new Dictionary<string, List<double>>();
        try
        {
            // Runs interleaved: each round runs every scenario once, so a scenario and its reference share the
            // machine's slow and fast moments (and the server's state) instead of one of them getting all of either.
            var chosen = scenarios.Where(s => only.Length == 0 || only.Contains(s.Name)).ToList();
            var measured = chosen.ToDictionary(s => s.Name, _ => new List<(double Rate, double P50, double P99)>());
            // Round 0 is a warm-up round, not recorded: the process's code reaches its final tier (the JIT's tiers and
            // PGO), as in a service that has run a while, before any scenario is measured.
            for (int i = 0; i <= runs; i++)
            {
                foreach ((string name, string _, Func<string, int, Task<(double Rate, double P50, double P99)>> run) in chosen)
                {
                    await run(url, Math.Max(500, events / 10)); // warm-up, on its own stream
                    TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    ReportSection.Quiesce();
                    (double rate, double p50, double p99) = await run(url, events);
                    double cpuPerEvent = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / events;
                    if (i > 0)
                    {
                        measured[name].Add((rate, p50, p99));
                    }

                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-22} {(i == 0 ? "warm-up" : $"run {i}/{runs}")}: {rate,10:N0} events/s  p50 {p50,9:N0} µs  p99 {p99,9:N0} µs  this process's CPU {cpuPerEvent,5:N1} µs/event"));
                }
            }

            foreach ((string name, string what, Func<string, int, Task<(double Rate, double P50, double P99)>> _) in chosen)
            {
                List<(double Rate, double P50, double P99)> m = measured[name];
                double Median(Func<(double Rate, double P50, double P99), double> f) => m.Select(f).Order().ElementAt(m.Count / 2);
                results.Add((name, what, Median(x => x.Rate), m.Min(x => x.Rate), m.Max(x => x.Rate), Median(x => x.P50), Median(x => x.P99)));
                rounds[name] = [.. m.Select(x => x.Rate)];
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

        string report = Report(results, rounds, events, quick, runs);
        Console.WriteLine();
        Console.WriteLine(report);
        await ReportSection.WriteAsync(Begin, End, report, quick);
        return 0;
    }

    private static string NewRun(string kind) => ("B" + kind + Guid.NewGuid().ToString("N")[..8]).ToUpperInvariant();

    /// <summary>
    /// A stream as Herald makes it (file storage, the duplicate window), for the raw client's runs; with
    /// <paramref name="redriveSubject"/> exactly as Herald makes it (its redrive subjects too), for Herald's publish run,
    /// so Herald finds its stream as on a second start. Herald adding the subject to a stream made without it (an update)
    /// cost its publishes ~15% against the same messages on nats-server 2.9 here (measured: 0.77x of raw with the same
    /// headers after an update, 0.96x without), a cost of the update, not of a second subject.
    /// </summary>
    private static async Task<NatsJSContext> StreamAsync(NatsConnection connection, string stream, string prefix, bool redriveSubject = false)
    {
        var js = new NatsJSContext(connection);
        await js.CreateStreamAsync(new StreamConfig(stream, redriveSubject ? [prefix + ".>", prefix + "-redrive.>"] : [prefix + ".>"]) { Storage = StreamConfigStorage.File, DuplicateWindow = TimeSpan.FromMinutes(2), MaxAge = TimeSpan.FromDays(7) });
        return js;
    }

    private static async Task<(double Rate, double P50, double P99)> RawPublishAsync(string url, int events, bool cloudEventHeaders)
    {
        string stream = NewRun("RP");
        string prefix = stream.ToLowerInvariant();
        await using var connection = new NatsConnection(new NatsOpts { Url = url });
        NatsJSContext js = await StreamAsync(connection, stream, prefix);
        // The same server state as Herald's publish run: a durable consumer on the subject (Herald's publish needs one,
        // a topic no group takes is an error; and events are published to be consumed).
        await js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig("idle") { FilterSubject = $"{prefix}.user.created", AckPolicy = ConsumerConfigAckPolicy.Explicit });
        long start = Stopwatch.GetTimestamp();
        await BrokerBenchmark.PublishAllAsync(events, InFlight, i => RawPublishOneAsync(js, prefix, i, cloudEventHeaders));
        double rate = events / Stopwatch.GetElapsedTime(start).TotalSeconds;
        await js.DeleteStreamAsync(stream);
        return (rate, double.NaN, double.NaN);
    }

    private static async Task RawPublishOneAsync(NatsJSContext js, string prefix, int i, bool cloudEventHeaders = false)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new UserCreated(i, BrokerBenchmark.Email(i), Stopwatch.GetTimestamp()));
        NatsHeaders? headers = !cloudEventHeaders ? null : new NatsHeaders
        {
            ["ce-specversion"] = "1.0", ["ce-id"] = Guid.NewGuid().ToString(), ["ce-source"] = "urn:herald:bench", ["ce-type"] = "user.created",
            ["ce-time"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture), ["ce-datacontenttype"] = "application/json",
        };
        PubAckResponse ack = await js.PublishAsync($"{prefix}.user.created", body, opts: new NatsJSPubOpts { MsgId = $"raw-{i}" }, headers: headers);
        if (ack.Error is { } error)
        {
            throw new InvalidOperationException(error.Description);
        }
    }

    /// <summary>Herald in a default Generic Host, publishing only (a raw durable consumer makes the topic routed, as a running group would).</summary>
    private static async Task<(double Rate, double P50, double P99)> HeraldPublishAsync(string url, int events)
    {
        string stream = NewRun("HP");
        string prefix = stream.ToLowerInvariant();
        await using (var connection = new NatsConnection(new NatsOpts { Url = url }))
        {
            NatsJSContext js = await StreamAsync(connection, stream, prefix, redriveSubject: true);
            await js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig("idle") { FilterSubject = $"{prefix}.user.created", AckPolicy = ConsumerConfigAckPolicy.Explicit });
        }

        using IHost host = HeraldHost(url, stream, prefix, handlers: false, probe: null);
        await host.StartAsync();
        EventBus bus = host.Services.GetRequiredService<EventBus>();
        long start = Stopwatch.GetTimestamp();
        await BrokerBenchmark.PublishAllAsync(events, InFlight, i => bus.PublishAsync(new UserCreated(i, BrokerBenchmark.Email(i), Stopwatch.GetTimestamp())).AsTask());
        double rate = events / Stopwatch.GetElapsedTime(start).TotalSeconds;
        await host.StopAsync();
        await DeleteAsync(url, stream);
        return (rate, double.NaN, double.NaN);
    }

    private static async Task<(double Rate, double P50, double P99)> RawEndToEndAsync(string url, int events)
    {
        string stream = NewRun("RE");
        string prefix = stream.ToLowerInvariant();
        var probe = new Probe(events);
        await using var connection = new NatsConnection(new NatsOpts { Url = url });
        NatsJSContext js = await StreamAsync(connection, stream, prefix);
        using var stop = new CancellationTokenSource();
        var consuming = new List<Task>();
        for (int s = 0; s < Probe.Subscribers; s++)
        {
            int subscriber = s;
            INatsJSConsumer consumer = await js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig($"group{s}")
            {
                FilterSubject = $"{prefix}.user.created",
                AckPolicy = ConsumerConfigAckPolicy.Explicit,
                MaxAckPending = 256, // what Herald's consumer asks for at its default concurrency
            });
            consuming.Add(Task.Run(async () =>
            {
                try
                {
                    await foreach (INatsJSMsg<ReadOnlyMemory<byte>> message in consumer.ConsumeAsync(NatsRawSerializer<ReadOnlyMemory<byte>>.Default, new NatsJSConsumeOpts { MaxMsgs = 64 }, stop.Token))
                    {
                        probe.Record(subscriber, JsonSerializer.Deserialize<UserCreated>(message.Data.Span)!);
                        await message.AckAsync(cancellationToken: stop.Token);
                    }
                }
                catch (OperationCanceledException)
                {
                    // stopped
                }
            }));
        }

        long start = Stopwatch.GetTimestamp();
        await BrokerBenchmark.PublishAllAsync(events, InFlight, i => RawPublishOneAsync(js, prefix, i));
        (double Rate, double P50, double P99) result = await BrokerBenchmark.FinishAsync(probe, events, start);
        await stop.CancelAsync();
        await Task.WhenAll(consuming);
        await js.DeleteStreamAsync(stream);
        return result;
    }

    private static async Task<(double Rate, double P50, double P99)> HeraldEndToEndAsync(string url, int events)
    {
        string stream = NewRun("HE");
        string prefix = stream.ToLowerInvariant();
        var probe = new Probe(events);
        using IHost host = HeraldHost(url, stream, prefix, handlers: true, probe);
        await host.StartAsync();
        EventBus bus = host.Services.GetRequiredService<EventBus>();
        long start = Stopwatch.GetTimestamp();
        await BrokerBenchmark.PublishAllAsync(events, InFlight, i => bus.PublishAsync(new UserCreated(i, BrokerBenchmark.Email(i), Stopwatch.GetTimestamp())).AsTask());
        (double Rate, double P50, double P99) result = await BrokerBenchmark.FinishAsync(probe, events, start);
        await host.StopAsync();
        await DeleteAsync(url, stream);
        return result;
    }

    /// <summary>What a user runs: a default Generic Host (its logging included) with Herald on NATS and default options.</summary>
    private static IHost HeraldHost(string url, string stream, string prefix, bool handlers, Probe? probe)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();

        if (probe is not null)
        {
            builder.Services.AddSingleton(probe);
        }

        builder.Services.AddHerald(h =>
        {
            h.UseNats(url, o => { o.Stream = stream; o.SubjectPrefix = prefix; });
            if (handlers)
            {
                h.AddHandler<Systems.HeraldHandlerSystem.EmailHandler, UserCreated>();
                h.AddHandler<Systems.HeraldHandlerSystem.PointsHandler, UserCreated>();
                h.AddHandler<Systems.HeraldHandlerSystem.RiskHandler, UserCreated>();
            }
        });
        return builder.Build();
    }

    private static async Task DeleteAsync(string url, string stream)
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = url });
        var js = new NatsJSContext(connection);
        await js.DeleteStreamAsync(stream);
        await js.DeleteStreamAsync(stream + "_DEAD_LETTERS");
    }

    /// <summary>Starts a private nats-server with eng/nats-local.sh in a temporary directory, on a free loopback port.</summary>
    private static async Task<(string Url, Func<Task> Stop)> StartServerAsync()
    {
        string root = FanoutRunner.FindRepositoryRoot() ?? throw new InvalidOperationException("the nats benchmark runs from the repository (it starts nats-server with eng/nats-local.sh)");
        string script = Path.Combine(root, "eng", "nats-local.sh");
        DirectoryInfo home = Directory.CreateTempSubdirectory("herald-bench-nats-");
        int port = Random.Shared.Next(20_000, 40_000);
        string output = await BrokerBenchmark.ScriptAsync(script, home.FullName, "start", port.ToString(CultureInfo.InvariantCulture));
        string url = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).First(l => l.StartsWith("nats://", StringComparison.Ordinal)).Trim();
        Console.WriteLine($"nats-server started at {url}");
        return (url, async () =>
        {
            await BrokerBenchmark.ScriptAsync(script, home.FullName, "stop");
            home.Delete(recursive: true);
        });
    }

    private static string Report(List<(string Name, string What, double Median, double Min, double Max, double P50, double P99)> results, Dictionary<string, List<double>> rounds, int events, bool quick, int runs)
    {
        StringBuilder md = ReportSection.Start(
            Begin,
            $"On NATS JetStream: Herald next to the raw client{(quick ? " (quick mode)" : string.Empty)}",
            ReportSection.Command("nats", quick, runs),
            "; nats-server 2.9 from Debian on 127.0.0.1 (JetStream, file storage), on the same cores",
            string.Create(CultureInfo.InvariantCulture, $"a warm-up round, then {runs} rounds, each running every scenario once (interleaved) with {events:N0} events on a fresh stream after a warm-up on another; {InFlight} publishes in flight, each awaited until JetStream acknowledged it; end to end: events/s until all three groups have every event, latency from publish to handler; Herald in a default Generic Host (console logging) with default options; medians and min-max."));
        md.AppendLine("| scenario | what | events/s (median) | min-max | p50 µs | p99 µs |");
        md.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            string p50 = double.IsNaN(r.P50) ? "-" : r.P50.ToString("N0", CultureInfo.InvariantCulture);
            string p99 = double.IsNaN(r.P99) ? "-" : r.P99.ToString("N0", CultureInfo.InvariantCulture);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {r.What} | {r.Median:N0} | {r.Min:N0}-{r.Max:N0} | {p50} | {p99} |");
        }

        md.AppendLine();
        ReportSection.RatioHeader(md);
        void Ratio(string target, string a, string b, double bound) => ReportSection.Ratio(md, target, rounds.GetValueOrDefault(a), rounds.GetValueOrDefault(b), bound);

        Ratio("publish >= 0.90x raw publish", "herald-publish", "raw-publish", 0.90);
        Ratio("publish to handler >= 0.70x raw pull consumers", "herald-end-to-end", "raw-end-to-end", 0.70);
        Ratio("(no target) publish next to raw with the same ce- headers", "herald-publish", "raw-publish-ce-headers", 0);
        Ratio("(no target) raw with the ce- headers next to bare raw", "raw-publish-ce-headers", "raw-publish", 0);
        md.Append(End);
        return md.ToString();
    }
}
