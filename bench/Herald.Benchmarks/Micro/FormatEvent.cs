using System.Text.Json;
using System.Text.Json.Serialization;
using ProtoBuf;

namespace Herald.Benchmarks.Micro;

/// <summary>A typical business event for the format benchmarks: ids, an amount, a few flags and tags.</summary>
[Topic("bench.order-placed")]
[ProtoContract(SkipConstructor = true)]
public sealed record FormatEvent(
    [property: ProtoMember(1)] string OrderId,
    [property: ProtoMember(2)] string CustomerId,
    [property: ProtoMember(3)] long TotalCents,
    [property: ProtoMember(4)] int Items,
    [property: ProtoMember(5)] bool Express,
    [property: ProtoMember(6)] string[] Tags,
    [property: ProtoMember(7)] double Discount);

/// <summary>System.Text.Json's source-generated metadata for <see cref="FormatEvent"/>, with the web defaults Herald's JSON uses.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(FormatEvent))]
public sealed partial class FormatJsonContext : JsonSerializerContext;
