using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Herald.MessagePack;
using Herald.Protobuf;

namespace Herald.Benchmarks.Micro;

/// <summary>
/// Encoding and decoding one event with each serializer, as a transport does (into a reused buffer writer; decoding
/// from a span): System.Text.Json by default (reflection metadata) and source-generated, MessagePack contractless (the
/// default), Protobuf (protobuf-net). The Bytes column is the payload's size.
/// </summary>
[Config(typeof(FormatConfig))]
public class FormatBenchmarks
{
    private static readonly FormatEvent Event = new("ord-20261203-000042", "cus-7f3a9c21", 129_900, 3, true, ["gift", "express"], 0.15);

    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private IEventSerializer _serializer = null!;
    private byte[] _encoded = [];

    /// <summary>The serializer under test.</summary>
    [Params("json", "json-sourcegen", "msgpack", "protobuf")]
    public string Format { get; set; } = "json";

    public static IEventSerializer Make(string format) => format switch
    {
        "json" => new SystemTextJsonEventSerializer(),
        "json-sourcegen" => new SystemTextJsonEventSerializer(new JsonSerializerOptions(FormatJsonContext.Default.Options)),
        "msgpack" => new MessagePackEventSerializer(),
        "protobuf" => new ProtobufEventSerializer(),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    public static byte[] Encode(IEventSerializer serializer)
    {
        var buffer = new ArrayBufferWriter<byte>();
        serializer.Serialize(buffer, Event, typeof(FormatEvent));
        return buffer.WrittenSpan.ToArray();
    }

    [GlobalSetup]
    public void Setup()
    {
        _serializer = Make(Format);
        _encoded = Encode(_serializer);
    }

    [Benchmark]
    public int Serialize()
    {
        _buffer.ResetWrittenCount();
        _serializer.Serialize(_buffer, Event, typeof(FormatEvent));
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public object? Deserialize() => _serializer.Deserialize(_encoded, typeof(FormatEvent));

    /// <summary>The micro configuration with the payload's size as a column.</summary>
    private sealed class FormatConfig : MicroConfig
    {
        public FormatConfig() => AddColumn(new BytesColumn());
    }

    /// <summary>The encoded size of the benchmark's event in the case's format.</summary>
    private sealed class BytesColumn : IColumn
    {
        public string Id => nameof(BytesColumn);

        public string ColumnName => "Bytes";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Size;

        public string Legend => "Encoded payload size in bytes";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
            Encode(Make((string)benchmarkCase.Parameters["Format"])).Length.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;
    }
}
