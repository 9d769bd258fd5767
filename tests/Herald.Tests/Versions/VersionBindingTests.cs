using System.Text;
using Herald.Tests.Support;

namespace Herald.Tests.Versions;

/// <summary>
/// Versions on topic bindings and the upcasters between them. Both are for the whole process, so every test uses
/// topics of its own.
/// </summary>
public sealed class VersionBindingTests
{
    [Topic("versions.mismatch", Version = 2, DataSchema = "urn:shop:versions.mismatch:v3")]
    public sealed record Mismatched(string Id);

    [Topic("versions.from-schema", DataSchema = "https://schemas.example.com/versions.from-schema/v4")]
    public sealed record FromSchema(string Id);

    [Topic("versions.negative", Version = -1)]
    public sealed record Negative(string Id);

    public sealed record PartnerV1(string Id);

    public sealed record PartnerV2(string Id, int Units);

    public sealed record PartnerV2Copy(string Id, int Units);

    [Topic("versions.chain")]
    public sealed record ChainV1(string Name);

    [Topic("versions.chain", Version = 2)]
    public sealed record ChainV2(string Name, int Size);

    [Topic("versions.chain", Version = 3)]
    public sealed record ChainV3(string Name, int Size, bool Large);

    [Topic("versions.other")]
    public sealed record OtherTopic(string Name);

    [Topic("versions.gap")]
    public sealed record GapV1(string Name);

    [Topic("versions.gap", Version = 2)]
    public sealed record GapV2(string Name);

    [Topic("versions.gap", Version = 3)]
    public sealed record GapV3(string Name);

    [Topic("versions.throws")]
    public sealed record ThrowsV1(string Name);

    [Topic("versions.throws", Version = 2)]
    public sealed record ThrowsV2(string Name);

    private static readonly CloudEventJsonFormatter Formatter = new(new SystemTextJsonEventSerializer());

    private static ChainV2 ChainTwo(ChainV1 v1) => new(v1.Name, v1.Name.Length);

    private static ChainV3 ChainThree(ChainV2 v2) => new(v2.Name, v2.Size, v2.Size > 3);

    private static Envelope Stored(string topic, string json, string? dataSchema = null) =>
        new(topic, null, TestEvents.Now) { EncodedData = Encoding.UTF8.GetBytes(json), DataContentType = "application/json", DataSchema = dataSchema };

    [Fact]
    public void AVersionTravelsInTheDataSchema_WrittenByHeraldWhenNoneIsGiven_ReadFromItWhenOneIs()
    {
        Assert.Equal((3, "urn:herald:versions.chain:v3"), (Topic.BindingOf(typeof(ChainV3)).Version, Topic.BindingOf(typeof(ChainV3)).DataSchema));
        Assert.Equal((1, (string?)null), (Topic.BindingOf(typeof(ChainV1)).Version, Topic.BindingOf(typeof(ChainV1)).DataSchema));
        Assert.Equal(4, Topic.BindingOf(typeof(FromSchema)).Version);
        Assert.Equal("https://schemas.example.com/versions.from-schema/v4", Topic.BindingOf(typeof(FromSchema)).DataSchema);
    }

    [Fact]
    public void AVersionTheDataSchemaContradicts_OrBelowOne_IsAnInvalidTopic_SayingWhy()
    {
        InvalidTopicException mismatch = Assert.Throws<InvalidTopicException>(() => Topic.Of<Mismatched>());
        Assert.Contains("its version is 2 but its data schema 'urn:shop:versions.mismatch:v3' says version 3", mismatch.Message, StringComparison.Ordinal);
        InvalidTopicException negative = Assert.Throws<InvalidTopicException>(() => Topic.Of<Negative>());
        Assert.Contains("versions start at 1", negative.Message, StringComparison.Ordinal);
        InvalidTopicException bound = Assert.Throws<InvalidTopicException>(() => Topic.Bind<PartnerV2Copy>("versions.partner-bad", "urn:partner:thing", version: 2));
        Assert.Contains("carries no version", bound.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TypesWithoutAttributes_TakeVersionsOfOneTopic_OneTypePerVersion()
    {
        Topic.Bind<PartnerV1>("versions.partner");
        Topic.Bind<PartnerV2>("versions.partner", version: 2);
        Topic.Bind<PartnerV2>("versions.partner", version: 2); // again: nothing to do
        Assert.Equal("urn:herald:versions.partner:v2", Topic.BindingOf(typeof(PartnerV2)).DataSchema);

        InvalidOperationException taken = Assert.Throws<InvalidOperationException>(() => Topic.Bind<PartnerV2Copy>("versions.partner", version: 2));
        Assert.Contains("at version 2 is already bound to event type", taken.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(PartnerV2), taken.Message, StringComparison.Ordinal);

        Assert.True(Topic.TryGetType("versions.partner", out Type? newest)); // what an untyped reader decodes: the newest
        Assert.Equal(typeof(PartnerV2), newest);
    }

    [Fact]
    public void UpcastersAreChecked_WhenRegistered()
    {
        InvalidOperationException crossing = Assert.Throws<InvalidOperationException>(() => EventUpcasters.Register<ChainV1, OtherTopic>(v1 => new OtherTopic(v1.Name)));
        Assert.Contains("crosses topics", crossing.Message, StringComparison.Ordinal);

        InvalidOperationException down = Assert.Throws<InvalidOperationException>(() => EventUpcasters.Register<ChainV3, ChainV2>(v3 => new ChainV2(v3.Name, v3.Size)));
        Assert.Contains("does not go up", down.Message, StringComparison.Ordinal);

        EventUpcasters.Register<ChainV1, ChainV2>(ChainTwo);
        EventUpcasters.Register<ChainV1, ChainV2>(ChainTwo); // a second host of the same code: nothing to do
        InvalidOperationException twice = Assert.Throws<InvalidOperationException>(() => EventUpcasters.Register<ChainV1, ChainV2>(v1 => new ChainV2(v1.Name, 0)));
        Assert.Contains("Version 1 of 'versions.chain' already has an upcaster", twice.Message, StringComparison.Ordinal);

        InvalidTopicException untopiced = Assert.Throws<InvalidTopicException>(() => EventUpcasters.Register<string, ChainV2>(s => new ChainV2(s, 0)));
        Assert.Contains("has no topic", untopiced.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OlderPayloads_AreReadThroughTheChain_CurrentOnesAsTheyAre_NewerOnesRefused()
    {
        EventUpcasters.Register<ChainV1, ChainV2>(ChainTwo);
        EventUpcasters.Register<ChainV2, ChainV3>(ChainThree);

        Assert.Equal(new ChainV3("ring", 4, true), Formatter.DecodeData(Stored("versions.chain", """{"name":"ring"}"""), typeof(ChainV3)));
        Assert.Equal(new ChainV3("box", 9, true), Formatter.DecodeData(Stored("versions.chain", """{"name":"box","size":9}""", "urn:herald:versions.chain:v2"), typeof(ChainV3)));
        Assert.Equal(new ChainV2("cup", 3), Formatter.DecodeData(Stored("versions.chain", """{"name":"cup"}"""), typeof(ChainV2)));
        Assert.Equal(
            new ChainV3("pin", 1, false),
            Formatter.DecodeData(Stored("versions.chain", """{"name":"pin","size":1,"large":false}""", "urn:herald:versions.chain:v3"), typeof(ChainV3)));

        EventDecodingException tooNew = Assert.Throws<EventDecodingException>(() =>
            Formatter.DecodeData(Stored("versions.chain", """{"name":"pin","size":1,"large":false}""", "urn:herald:versions.chain:v3"), typeof(ChainV2)));
        Assert.Contains("is version 3", tooNew.Message, StringComparison.Ordinal);
        Assert.Contains("knows version 2", tooNew.Message, StringComparison.Ordinal);

        EventDecodingException future = Assert.Throws<EventDecodingException>(() =>
            Formatter.DecodeData(Stored("versions.chain", "{}", "urn:herald:versions.chain:v7"), typeof(ChainV3)));
        Assert.Contains("is version 7", future.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingStep_OrAnUpcasterThatThrows_IsADecodingFailure_NamingTheEventAndTheStep()
    {
        EventUpcasters.Register<GapV2, GapV3>(v2 => new GapV3(v2.Name));
        EventDecodingException gap = Assert.Throws<EventDecodingException>(() => Formatter.DecodeData(Stored("versions.gap", """{"name":"a"}"""), typeof(GapV3)));
        Assert.Contains("no upcaster starts at version 1", gap.Message, StringComparison.Ordinal);
        Assert.Contains("h.Upcast<", gap.Message, StringComparison.Ordinal);

        EventUpcasters.Register<ThrowsV1, ThrowsV2>(v1 => v1.Name.Length > 0 ? new ThrowsV2(v1.Name) : throw new FormatException("a name is required"));
        Assert.Equal(new ThrowsV2("ok"), Formatter.DecodeData(Stored("versions.throws", """{"name":"ok"}"""), typeof(ThrowsV2)));
        EventDecodingException threw = Assert.Throws<EventDecodingException>(() => Formatter.DecodeData(Stored("versions.throws", """{"name":""}"""), typeof(ThrowsV2)));
        Assert.Contains($"cannot be upcast from {typeof(ThrowsV1).FullName} to {typeof(ThrowsV2).FullName}", threw.Message, StringComparison.Ordinal);
        Assert.Contains("a name is required", threw.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(threw.InnerException);
    }

    [Topic("versions.foreign")]
    public sealed record Foreign(string Name);

    [Fact]
    public void AnotherProducersSchema_EndingInAVersion_IsNotTakenForHeralds_AndNewerEventsReachUntypedReadersUndecoded()
    {
        Assert.Equal(new Foreign("x"), Formatter.DecodeData(Stored("versions.foreign", """{"name":"x"}""", "https://api.example.com/schemas/v2"), typeof(Foreign)));

        EventUpcasters.Register<ChainV1, ChainV2>(ChainTwo);
        EventUpcasters.Register<ChainV2, ChainV3>(ChainThree);
        Envelope newer = Stored("versions.chain", """{"name":"pin","size":1,"large":false}""", "urn:herald:versions.chain:v3");
        Assert.Null(Formatter.DecodeUntyped(newer, typeof(ChainV2))); // a pattern handler of an older release gets it undecoded, not dead-lettered
        Assert.Equal(new ChainV3("pin", 1, false), Formatter.DecodeUntyped(newer, typeof(ChainV3)));
    }

    [Fact]
    public void AnEmptyBodyOfAContentTypeNoReaderKnows_IsNoData_NotAFailure()
    {
        var envelope = new Envelope("versions.foreign", null, TestEvents.Now) { DataContentType = "application/octet-stream" };
        Assert.Null(Formatter.DecodeData(envelope, typeof(Foreign)));
    }
}
