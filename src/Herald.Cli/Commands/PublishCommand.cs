using System.CommandLine;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace Herald.Cli.Commands;

/// <summary><c>herald publish &lt;topic&gt; --data '{json}' [--key k] [--count n]</c></summary>
internal static class PublishCommand
{
    public static Command Create(SystemOptions systems)
    {
        var topic = new Argument<string>("topic") { Description = "The event's topic (CloudEvents type), for example user.created." };
        var data = new Option<string>("--data") { Description = "The payload: a JSON document.", Required = true, HelpName = "json" };
        var key = new Option<string?>("--key") { Description = "The ordering key (CloudEvents subject).", HelpName = "key" };
        var count = new Option<int>("--count") { Description = "Publish this many copies, each with its own id.", DefaultValueFactory = _ => 1, HelpName = "n" };
        var source = new Option<string>("--source") { Description = "The CloudEvents source.", DefaultValueFactory = _ => "urn:herald:cli" };
        var command = new Command("publish", """
            Publish an event (or --count of them) with a JSON payload.
            Example: herald publish user.created --data '{"id":42,"email":"a@b.c"}' --key user-42 --sqlite herald.db
            """)
        {
            topic, data, key, count, source,
        };
        command.SetSystemAction(systems, async (parse, system, ct) =>
        {
            string name = parse.GetValue(topic)!;
            if (!Topic.IsValid(name))
            {
                throw CliException.Usage(Topic.Explain(name)!);
            }

            byte[] payload = Data(parse.GetValue(data)!);
            int n = parse.GetValue(count);
            if (n < 1)
            {
                throw CliException.Usage($"--count must be at least 1, not {n}.");
            }

            string? subject = parse.GetValue(key);
            string from = parse.GetValue(source)!;
            Envelope Next() => new(name, null, TimeProvider.System.GetUtcNow()) { Subject = subject, Source = from, EncodedData = payload, DataContentType = "application/json" };

            string? lastId = null;
            if (n == 1)
            {
                Envelope one = Next();
                await system.PublishAsync(one, ct).ConfigureAwait(false);
                lastId = one.Id;
            }
            else
            {
                await Output.Console.Progress().AutoClear(true).StartAsync(async progress =>
                {
                    ProgressTask task = progress.AddTask($"publishing {name}", maxValue: n);
                    await Parallel.ForAsync(0, n, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = ct }, async (_, token) =>
                    {
                        Envelope e = Next();
                        await system.PublishAsync(e, token).ConfigureAwait(false);
                        Volatile.Write(ref lastId, e.Id);
                        task.Increment(1);
                    }).ConfigureAwait(false);
                }).ConfigureAwait(false);
            }

            Output.Console.WriteLine($"published {n} event(s) to {name} on {system.Name}" + (n == 1 ? $": {lastId}" : string.Empty));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Checks <c>--data</c> as every reader will read it (JSON, at most the readers' depth) and encodes it: a usage error otherwise.</summary>
    internal static byte[] Data(string text)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = CloudEventJsonFormatter.MaxDataDepth }); // what every reader reads
        }
        catch (JsonException ex)
        {
            throw CliException.Usage($"--data is not valid JSON ({ex.Message}). Quote it for the shell, for example --data '{{\"id\":42}}'.");
        }

        return Encoding.UTF8.GetBytes(text);
    }
}
