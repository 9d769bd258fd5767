// Herald benchmarks.
//   fanout [--quick] [--csv out.csv] [--runs N] [--only a,b]   side-by-side scenarios, one fresh process per run
//   durable [--quick] [--runs N] [--only a,b]                   Herald on SQLite next to raw Microsoft.Data.Sqlite inserts
//   broker [--quick] [--runs N] [--only a,b]                    Herald on RabbitMQ next to the raw RabbitMQ.Client (starts its own broker)
//   nats [--quick] [--runs N] [--only a,b]                      Herald on NATS JetStream next to the raw NATS.Net client (starts its own server)
//   postgres [--quick] [--runs N] [--only a,b]                  Herald on PostgreSQL next to raw Npgsql, its event store next to Marten (starts its own server)
//   micro [BenchmarkDotNet args]                                BenchmarkDotNet microbenchmarks
//   worker <system> <mode> <events> <rate>                      (internal) one run in this process
using System.Globalization;
using BenchmarkDotNet.Running;
using Herald.Benchmarks.Fanout;

string command = args.Length > 0 ? args[0] : "fanout";
switch (command)
{
    case "worker":
        return await Worker.RunAsync(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture));
    case "fanout":
        bool quick = args.Contains("--quick");
        string? csv = Option("--csv");
        int runs = int.TryParse(Option("--runs"), CultureInfo.InvariantCulture, out int r) && r > 0 ? r : 5; // medians of five interleaved fresh processes
        string[] only = Option("--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return await FanoutRunner.RunAsync(quick, csv, runs, only);
    case "durable":
        int durableRuns = int.TryParse(Option("--runs"), CultureInfo.InvariantCulture, out int dr) && dr > 0 ? dr : 3;
        return await Herald.Benchmarks.Durable.DurableBenchmark.RunAsync(args.Contains("--quick"), durableRuns, Option("--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? []);
    case "broker":
        int brokerRuns = int.TryParse(Option("--runs"), CultureInfo.InvariantCulture, out int br) && br > 0 ? br : 3;
        return await Herald.Benchmarks.Broker.BrokerBenchmark.RunAsync(args.Contains("--quick"), brokerRuns, Option("--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? []);
    case "nats":
        int natsRuns = int.TryParse(Option("--runs"), CultureInfo.InvariantCulture, out int nr) && nr > 0 ? nr : 3;
        return await Herald.Benchmarks.Broker.NatsBenchmark.RunAsync(args.Contains("--quick"), natsRuns, Option("--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? []);
    case "postgres":
        int pgRuns = int.TryParse(Option("--runs"), CultureInfo.InvariantCulture, out int pr) && pr > 0 ? pr : 3;
        return await Herald.Benchmarks.Durable.PostgresBenchmark.RunAsync(args.Contains("--quick"), pgRuns, Option("--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? []);
    case "pg-member":
        return await Herald.Benchmarks.Durable.PostgresBenchmark.MemberAsync(args[1], idempotent: args.Length < 3 || args[2] != "no-inbox");
    case "pg-raw-member":
        return await Herald.Benchmarks.Durable.PostgresBenchmark.RawMemberAsync(args[1]);
    case "micro":
        BenchmarkSwitcher.FromAssembly(typeof(Probe).Assembly).Run(args[1..]);
        return 0;
    default:
        Console.Error.WriteLine($"Unknown command '{command}'. Use: fanout [--quick] [--csv out.csv] [--runs N] [--only a,b] | durable [--quick] [--runs N] [--only a,b] | broker [--quick] [--runs N] [--only a,b] | nats [--quick] [--runs N] | postgres [--quick] [--runs N] | micro [BenchmarkDotNet args]");
        return 2;
}

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
