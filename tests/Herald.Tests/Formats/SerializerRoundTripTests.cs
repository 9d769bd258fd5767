using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using Herald.MessagePack;
using Herald.Protobuf;

namespace Herald.Tests.Formats;

/// <summary>Every serializer reads back what it wrote, over random event values; and refuses bytes that are not its format.</summary>
public sealed class SerializerRoundTripTests
{
    public static TheoryData<string> Serializers => ["json", "msgpack", "protobuf"];

    private static IEventSerializer Make(string name) => name switch
    {
        "json" => new SystemTextJsonEventSerializer(),
        "msgpack" => new MessagePackEventSerializer(),
        "protobuf" => new ProtobufEventSerializer(),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static readonly Gen<string> Text =
        ArbMap.Default.GeneratorFor<char>().Where(c => !char.IsSurrogate(c)).ArrayOf().Select(chars => new string(chars));

    private static readonly Gen<FormatSample> Samples =
        from id in Text
        from count in ArbMap.Default.GeneratorFor<int>()
        from total in ArbMap.Default.GeneratorFor<long>()
        from ratio in Gen.Choose(-1_000_000, 1_000_000).Select(i => i / 7.0)
        from flag in ArbMap.Default.GeneratorFor<bool>()
        from tags in Text.ArrayOf()
        select new FormatSample(id, count, total, ratio, flag, tags);

    [Theory]
    [MemberData(nameof(Serializers))]
    public void RandomEvents_RoundTrip(string name)
    {
        IEventSerializer serializer = Make(name);
        Prop.ForAll(Samples.ToArbitrary(), sample =>
        {
            var buffer = new ArrayBufferWriter<byte>();
            serializer.Serialize(buffer, sample, typeof(FormatSample));
            return sample.SameAs(serializer.Deserialize(buffer.WrittenSpan, typeof(FormatSample)) as FormatSample);
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [MemberData(nameof(Serializers))]
    public void BytesOfAnotherShape_AreADecodingError_NamingTheFormatAndType(string name)
    {
        IEventSerializer serializer = Make(name);
        byte[] garbage = [0xc1, 0xff, 0x07, 0x9a, 0x00, 0x13];
        EventDecodingException ex = Assert.Throws<EventDecodingException>(() => serializer.Deserialize(garbage, typeof(FormatSample)));
        Assert.Contains(nameof(FormatSample), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBinaryFormats_AreSmallerThanJson_ForTheSameEvent()
    {
        var sample = new FormatSample("order-1234", 3, 129_900, 0.25, true, ["gift", "express"]);
        int Size(string name)
        {
            var buffer = new ArrayBufferWriter<byte>();
            Make(name).Serialize(buffer, sample, typeof(FormatSample));
            return buffer.WrittenCount;
        }

        Assert.True(Size("msgpack") < Size("json"), $"msgpack {Size("msgpack")} B, json {Size("json")} B");
        Assert.True(Size("protobuf") < Size("msgpack"), $"protobuf {Size("protobuf")} B, msgpack {Size("msgpack")} B");
    }

    [Topic("formats.conflicted")]
    public sealed record Conflicted(string Id);

    [Fact]
    public void ATypeKeepsOneSerializer_AndAPayloadNoReaderKnows_SaysWhichContentType()
    {
        EventSerializers.Use<Conflicted>(new MessagePackEventSerializer());
        EventSerializers.Use<Conflicted>(new MessagePackEventSerializer()); // a second host of the same code
        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => EventSerializers.Use<Conflicted>(new ProtobufEventSerializer()));
        Assert.Contains("already written with MessagePackEventSerializer (application/msgpack)", ex.Message, StringComparison.Ordinal);

        var buffer = new ArrayBufferWriter<byte>();
        new MessagePackEventSerializer().Serialize(buffer, new FormatSample("x", 1, 2, 3, true, []), typeof(FormatSample));
        var envelope = new Envelope("formats.sample", null, Support.TestEvents.Now) { EncodedData = buffer.WrittenMemory.ToArray(), DataContentType = "application/cbor" };
        EventDecodingException unknown = Assert.Throws<EventDecodingException>(
            () => new CloudEventJsonFormatter(new SystemTextJsonEventSerializer()).DecodeData(envelope, typeof(FormatSample)));
        Assert.Contains("Its content type 'application/cbor' has no deserializer here, so application/json was tried", unknown.Message, StringComparison.Ordinal);
    }

    public sealed record Throwing(string Id)
    {
        public string Boom => Id == "boom" ? throw new InvalidOperationException("no") : Id;
    }

    [Fact]
    public async Task TheJsonSerializersReusedWriter_SurvivesAFailure_AndThreadsAtOnce()
    {
        var serializer = new SystemTextJsonEventSerializer();
        var failed = new ArrayBufferWriter<byte>();
        Assert.Throws<InvalidOperationException>(() => serializer.Serialize(failed, new Throwing("boom"), typeof(Throwing)));

        var after = new ArrayBufferWriter<byte>();
        serializer.Serialize(after, new Throwing("ok"), typeof(Throwing));
        Assert.Equal("""{"id":"ok","boom":"ok"}""", System.Text.Encoding.UTF8.GetString(after.WrittenSpan)); // nothing left over from the failure

        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 5_000; i++)
            {
                var sample = new FormatSample($"{t}-{i}", i, t, 0.5, i % 2 == 0, [$"t{t}"]);
                var buffer = new ArrayBufferWriter<byte>();
                serializer.Serialize(buffer, sample, typeof(FormatSample));
                Assert.True(sample.SameAs(serializer.Deserialize(buffer.WrittenSpan, typeof(FormatSample)) as FormatSample));
            }
        })));
    }

    [Topic("formats.snake")]
    public sealed record SnakeCased(string OrderId, int LineCount);

    [Fact]
    public void ATypesOwnSerializer_ReadsWhatItWrote_EvenWhenTheTransportWritesTheSameContentType()
    {
        var snake = new SystemTextJsonEventSerializer(new System.Text.Json.JsonSerializerOptions
        {
            PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        });
        EventSerializers.Use<SnakeCased>(snake);
        var transport = new CloudEventJsonFormatter(new SystemTextJsonEventSerializer()); // camelCase, also application/json
        byte[] stored = transport.Encode(new Envelope("formats.snake", new SnakeCased("o-1", 3), Support.TestEvents.Now));
        Assert.Contains("\"line_count\":3", System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        Assert.Equal(new SnakeCased("o-1", 3), transport.DecodeData(CloudEventJsonFormatter.Decode(stored), typeof(SnakeCased)));
    }
}
