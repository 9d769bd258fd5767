using ProtoBuf;

namespace Herald.Tests.Formats;

/// <summary>An event every format can carry: JSON and MessagePack by its names, Protobuf by its numbers.</summary>
[Topic("formats.sample")]
[ProtoContract(SkipConstructor = true)]
public sealed record FormatSample(
    [property: ProtoMember(1)] string Id,
    [property: ProtoMember(2)] int Count,
    [property: ProtoMember(3)] long Total,
    [property: ProtoMember(4)] double Ratio,
    [property: ProtoMember(5)] bool Flag,
    [property: ProtoMember(6)] string[] Tags)
{
    /// <summary>Equal field by field; an empty string or array reads back as absent in Protobuf, so both count as empty.</summary>
    public bool SameAs(FormatSample? other) =>
        other is not null
        && (Id ?? string.Empty) == (other.Id ?? string.Empty)
        && Count == other.Count
        && Total == other.Total
        && Ratio.Equals(other.Ratio)
        && Flag == other.Flag
        && (Tags ?? []).SequenceEqual(other.Tags ?? []);
}

/// <summary>An order written as MessagePack wherever it is published (its type says so in the tests that use it).</summary>
[Topic("formats.order-packed")]
public sealed record PackedOrder(string OrderId, decimal Total);

/// <summary>A Protobuf event that may have every member at its default: zero bytes on the wire.</summary>
[Topic("formats.ping")]
[ProtoContract(SkipConstructor = true)]
public sealed record ProtoPing([property: ProtoMember(1)] int Sequence);

/// <summary>An event whose topic migrates from JSON to MessagePack.</summary>
[Topic("formats.migrating")]
public sealed record Migrating(string Id, int Step);
