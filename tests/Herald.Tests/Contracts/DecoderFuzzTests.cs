using System.Text;
using Herald.RabbitMQ;
using Herald.Tests.Support;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace Herald.Tests.Contracts;

/// <summary>
/// Issue 17's proof for every decoder of outside input: random and mutated inputs (seeded, so a failure replays) never
/// raise anything but <see cref="EventDecodingException"/>. Structured CloudEvents JSON (the SQLite row and the dead
/// letters), the payload decoded to a type (a constructor that throws included), and the AMQP binary mode's headers and
/// properties. The number of inputs tried is written to the test output.
/// </summary>
public sealed class DecoderFuzzTests(ITestOutputHelper output)
{
    private const int Inputs = 20_000;
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);
    private static readonly CloudEventJsonFormatter Formatter = new(new SystemTextJsonEventSerializer());

    /// <summary>Valid structured CloudEvents to mutate: a full one, a minimal one, one with a base64 payload.</summary>
    private static readonly byte[][] Seeds =
    [
        Formatter.Encode(new Envelope("user.created", TestEvents.User(42), Now) { Subject = "user-42", CorrelationId = "c", Headers = new Dictionary<string, string> { ["tenant"] = "t1" } }),
        """{"specversion":"1.0","type":"user.created","source":"urn:x","id":"1"}"""u8.ToArray(),
        """{"specversion":"1.0","type":"user.created","source":"urn:x","id":"1","datacontenttype":"application/octet-stream","data_base64":"AAEC","attempt":3}"""u8.ToArray(),
    ];

    private static readonly string[] Fragments =
    [
        "{", "}", "[", "]", "\"", ",", ":", "null", "true", "-1", "0", "1e400", "\"\\u0000\"", "\"specversion\"", "\"1.0\"", "\"type\"", "\"id\"",
        "\"\"", "\"time\"", "\"9999-99-99\"", "\"attempt\"", "2147483648", "\"data\"", "\"data_base64\"", "\"!!\"", "\"Id\"", "\"CreatedAt\"",
        new string('[', 2000), "\"user..created\"", "\"Email\"", "{\"Id\":\"x\"}",
    ];

    private static byte[] Mutate(Random random, byte[] seed)
    {
        var bytes = new List<byte>(seed);
        int edits = 1 + random.Next(6);
        for (int e = 0; e < edits; e++)
        {
            int at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << random.Next(8)); // flip a bit
                    break;
                case 1 when bytes.Count > 0:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(8))); // cut
                    break;
                case 2:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(Fragments[random.Next(Fragments.Length)])); // splice JSON
                    break;
                case 3:
                    bytes.Insert(at, (byte)random.Next(256)); // a random byte
                    break;
                case 4 when bytes.Count > 0:
                    bytes.RemoveRange(at, bytes.Count - at); // truncate
                    break;
                default:
                    byte[] noise = new byte[random.Next(16)];
                    random.NextBytes(noise);
                    bytes.AddRange(noise);
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>Decodes an input the way a reader does: the envelope, then its payload as the topic's type.</summary>
    private static void DecodeStructured(byte[] input)
    {
        Envelope envelope = CloudEventJsonFormatter.Decode(input);
        Formatter.DecodeData(envelope, typeof(UserCreated));
    }

    private static void AssertOnlyDecodingErrors(Action decode, int seed, int input, string what)
    {
        try
        {
            decode();
        }
        catch (EventDecodingException)
        {
            // the one documented failure
        }
        catch (Exception ex)
        {
            Assert.Fail($"{what} #{input} (seed {seed}) raised {ex.GetType().Name}, not EventDecodingException: {ex.Message}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void StructuredCloudEvents_RandomAndMutatedBytes_OnlyEverRaiseEventDecodingException(int seed)
    {
        var random = new Random(seed);
        int decoded = 0;
        for (int i = 0; i < Inputs; i++)
        {
            byte[] input = i % 10 == 0 ? RandomBytes(random) : Mutate(random, Seeds[random.Next(Seeds.Length)]);
            AssertOnlyDecodingErrors(() =>
            {
                DecodeStructured(input);
                decoded++;
            }, seed, i, "structured input");
        }

        output.WriteLine($"structured CloudEvents JSON: {Inputs} inputs tried (seed {seed}), {decoded} decoded, the rest refused with EventDecodingException");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void AmqpBinaryMode_RandomHeadersAndProperties_OnlyEverRaiseEventDecodingException(int seed)
    {
        var random = new Random(seed);
        int decoded = 0;
        (BasicProperties valid, ReadOnlyMemory<byte> body) = AmqpCloudEvents.Encode(new Envelope("user.created", TestEvents.User(7), Now) { Subject = "k" }, new SystemTextJsonEventSerializer());
        for (int i = 0; i < Inputs; i++)
        {
            var properties = new BasicProperties(valid) { Headers = new Dictionary<string, object?>(valid.Headers!) };
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits; e++)
            {
                Perturb(random, properties);
            }

            byte[] payload = random.Next(4) == 0 ? Mutate(random, body.ToArray()) : body.ToArray();
            AssertOnlyDecodingErrors(() =>
            {
                Envelope envelope = AmqpCloudEvents.Decode(properties, payload, Now);
                Formatter.DecodeData(envelope, typeof(UserCreated));
                decoded++;
            }, seed, i, "AMQP message");
        }

        output.WriteLine($"AMQP binary mode: {Inputs} messages tried (seed {seed}), {decoded} decoded, the rest refused with EventDecodingException");
    }

    /// <summary>
    /// The CLI's <c>--data</c>: mutated JSON (deep nesting near the limit included) is either refused as a usage error
    /// or accepted, and what it accepts every reader decodes: one depth limit for publish and read.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void CliData_MutatedJson_IsRefusedAsUsage_OrReadBackByEveryReader(int seed)
    {
        string nested(int depth) => new string('[', depth) + new string(']', depth);
        byte[][] payloads =
        [
            """{"Id":42,"Email":"a@b.c","CreatedAt":"2026-01-01T00:00:00Z"}"""u8.ToArray(),
            Encoding.UTF8.GetBytes(nested(CloudEventJsonFormatter.MaxDataDepth)),
            Encoding.UTF8.GetBytes(nested(CloudEventJsonFormatter.MaxDataDepth - 1)),
            """["\u001b]0;x\u0007",null,1e400,{"":{}}]"""u8.ToArray(),
        ];
        var random = new Random(seed);
        int accepted = 0;
        for (int i = 0; i < Inputs; i++)
        {
            string text = Encoding.UTF8.GetString(Mutate(random, payloads[random.Next(payloads.Length)]));
            byte[] data;
            try
            {
                data = Herald.Cli.Commands.PublishCommand.Data(text);
            }
            catch (Herald.Cli.CliException ex) when (ex.ExitCode == Herald.Cli.ExitCodes.Usage)
            {
                continue; // refused with a usage error naming the problem
            }
            catch (Exception ex)
            {
                Assert.Fail($"--data #{i} (seed {seed}) raised {ex.GetType().Name}, not a usage error: {ex.Message}");
                throw;
            }

            accepted++;
            byte[] stored = Formatter.Encode(new Envelope("user.created", null, Now) { EncodedData = data, DataContentType = "application/json" });
            Envelope read = CloudEventJsonFormatter.Decode(stored); // what the CLI accepts, a reader reads: no EventDecodingException here
            if (read.EncodedData.IsEmpty)
            {
                // JSON null is "no data" in a CloudEvent: read back as an event without a payload.
                using var document = System.Text.Json.JsonDocument.Parse(data);
                Assert.Equal(System.Text.Json.JsonValueKind.Null, document.RootElement.ValueKind);
            }
            else
            {
                Assert.Equal(data.AsSpan().Trim(" \t\r\n"u8).ToArray(), read.EncodedData.ToArray()); // the same JSON, without the whitespace around it
            }
            AssertOnlyDecodingErrors(() => Formatter.DecodeData(read, typeof(UserCreated)), seed, i, "--data as the handler's type");
        }

        output.WriteLine($"CLI --data: {Inputs} inputs tried (seed {seed}), {accepted} accepted and read back by the readers, the rest refused as usage errors");
        Assert.InRange(accepted, 1, Inputs - 1);
    }

    private static readonly string[] HeaderNames =
        ["cloudEvents_specversion", "cloudEvents_type", "cloudEvents_id", "cloudEvents_source", "cloudEvents_time", "cloudEvents_attempt", "cloudEvents_subject", "cloudEvents_x", "cloudEvents_Bad-Name", "cloudEvents_", "cloudEvents:type", "x-death"];

    private static void Perturb(Random random, BasicProperties properties)
    {
        IDictionary<string, object?> headers = properties.Headers!;
        string name = HeaderNames[random.Next(HeaderNames.Length)];
        switch (random.Next(9))
        {
            case 0:
                headers.Remove(name);
                break;
            case 1:
                headers[name] = RandomText(random);
                break;
            case 2:
                headers[name] = Encoding.UTF8.GetBytes(RandomText(random));
                break;
            case 3:
                headers[name] = random.Next(3) switch { 0 => (object)random.Next(), 1 => long.MinValue, _ => random.NextDouble() };
                break;
            case 4:
                headers[name] = random.Next(2) == 0 ? null : new Dictionary<string, object?> { ["nested"] = "x" };
                break;
            case 5:
                headers[name] = new List<object?> { "a", 1, null };
                break;
            case 6:
                properties.Timestamp = new AmqpTimestamp(random.Next(2) == 0 ? long.MaxValue / (1 + random.Next(1000)) : -random.NextInt64());
                headers.Remove("cloudEvents_time");
                break;
            case 7:
                properties.MessageId = random.Next(2) == 0 ? string.Empty : RandomText(random);
                headers.Remove("cloudEvents_id");
                break;
            default:
                properties.ContentType = random.Next(2) == 0 ? null : RandomText(random);
                break;
        }
    }

    private static string RandomText(Random random)
    {
        string[] shapes = ["", "1.0", "0.3", "user.created", "User.Created", "a", "9999-12-31T23:59:59.9999999+14:00", "0001-01-01", "-5", "99999999999", "\u001b]0;x\u0007", new string('x', 300)];
        return random.Next(3) == 0 ? new string((char)random.Next(0x20, 0x3000), random.Next(40)) : shapes[random.Next(shapes.Length)];
    }

    private static byte[] RandomBytes(Random random)
    {
        byte[] bytes = new byte[random.Next(200)];
        random.NextBytes(bytes);
        return bytes;
    }
}
