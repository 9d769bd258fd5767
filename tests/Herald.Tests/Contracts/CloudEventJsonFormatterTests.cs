using System.Net.Mime;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Herald.Tests.Support;

namespace Herald.Tests.Contracts;

public sealed class CloudEventJsonFormatterTests
{
    private static readonly SystemTextJsonEventSerializer Serializer = new();
    private static readonly CloudEventJsonFormatter Formatter = new(Serializer);

    private static Envelope Sample() => new("user.created", TestEvents.User(42), TestEvents.Now)
    {
        Source = "urn:herald:tests",
        Subject = "user-42",
        DataSchema = "urn:herald:user.created:v1",
        TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        TraceState = "congo=t61rcWkgMzE",
        CorrelationId = "signup-7",
        CausationId = "cmd-3",
        Attempt = 2,
        Headers = new Dictionary<string, string> { ["tenant"] = "acme" },
    };

    [Fact]
    public void Encode_IsReadByCloudNativeReader_WithEveryAttribute()
    {
        Envelope envelope = Sample();
        byte[] json = Formatter.Encode(envelope);

        CloudEvent read = new JsonEventFormatter().DecodeStructuredModeMessage(
            json, new ContentType(CloudEventJsonFormatter.MediaType), extensionAttributes: null);

        Assert.Equal(CloudEventsSpecVersion.V1_0, read.SpecVersion);
        Assert.Equal(envelope.Id, read.Id);
        Assert.Equal(new Uri("urn:herald:tests"), read.Source);
        Assert.Equal("user.created", read.Type);
        Assert.Equal(TestEvents.Now, read.Time);
        Assert.Equal("user-42", read.Subject);
        Assert.Equal("application/json", read.DataContentType);
        Assert.Equal(new Uri("urn:herald:user.created:v1"), read.DataSchema);
        Assert.Equal(envelope.TraceParent, read["traceparent"]);
        Assert.Equal(envelope.TraceState, read["tracestate"]);
        Assert.Equal("signup-7", read["correlationid"]);
        Assert.Equal("cmd-3", read["causationid"]);
        Assert.Equal("2", Convert.ToString(read["attempt"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("acme", read["tenant"]);
        var data = Assert.IsType<JsonElement>(read.Data);
        Assert.Equal(42, data.GetProperty("id").GetInt64());
        Assert.Equal("user42@example.com", data.GetProperty("email").GetString());
    }

    [Fact]
    public void Encode_IdIsUuidV7()
    {
        var id = Guid.Parse(Sample().Id);
        Assert.Equal(7, id.Version);
    }

    [Fact]
    public void RoundTrip_KeepsEnvelopeAndPayload()
    {
        Envelope original = Sample();
        Envelope decoded = CloudEventJsonFormatter.Decode(Formatter.Encode(original));

        Assert.Equal(original.Id, decoded.Id);
        Assert.Equal(original.Source, decoded.Source);
        Assert.Equal(original.Type, decoded.Type);
        Assert.Equal(original.Time, decoded.Time);
        Assert.Equal(original.Subject, decoded.Subject);
        Assert.Equal(original.DataSchema, decoded.DataSchema);
        Assert.Equal(original.TraceParent, decoded.TraceParent);
        Assert.Equal(original.TraceState, decoded.TraceState);
        Assert.Equal(original.CorrelationId, decoded.CorrelationId);
        Assert.Equal(original.CausationId, decoded.CausationId);
        Assert.Equal(2, decoded.Attempt);
        Assert.Equal("acme", decoded.Headers["tenant"]);
        Assert.Null(decoded.Data);
        Assert.False(decoded.EncodedData.IsEmpty);
        Assert.Equal(original.Data, Formatter.DecodeData(decoded, typeof(UserCreated)));
    }

    [Fact]
    public void Decode_EventWrittenByCloudNative_IsRead()
    {
        var cloudEvent = new CloudEvent
        {
            Id = "A234-1234-1234",
            Source = new Uri("https://example.com/registration"),
            Type = "user.created",
            Time = TestEvents.Now,
            Subject = "user-7",
            DataContentType = "application/json",
            Data = new { id = 7, email = "seven@example.com", createdAt = TestEvents.Now },
        };
        ReadOnlyMemory<byte> bytes = new JsonEventFormatter().EncodeStructuredModeMessage(cloudEvent, out _);

        Envelope envelope = CloudEventJsonFormatter.Decode(bytes.Span);

        Assert.Equal("A234-1234-1234", envelope.Id);
        Assert.Equal("https://example.com/registration", envelope.Source);
        Assert.Equal("user-7", envelope.Subject);
        var user = Assert.IsType<UserCreated>(Formatter.DecodeData(envelope, typeof(UserCreated)));
        Assert.Equal(new UserCreated(7, "seven@example.com", TestEvents.Now), user);
    }

    [Fact]
    public void Decode_BinaryPayload_UsesDataBase64()
    {
        var envelope = new Envelope("file.uploaded", data: null, TestEvents.Now)
        {
            DataContentType = "application/octet-stream",
            EncodedData = new byte[] { 0, 1, 2, 255 },
        };
        byte[] json = Formatter.Encode(envelope);
        Assert.Contains("\"data_base64\"", Encoding.UTF8.GetString(json), StringComparison.Ordinal);

        Envelope decoded = CloudEventJsonFormatter.Decode(json);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, decoded.EncodedData.ToArray());
        Assert.Equal("application/octet-stream", decoded.DataContentType);
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("[1,2]", "a JSON object")]
    [InlineData("""{"specversion":"0.3","id":"1","source":"s","type":"user.created"}""", "specversion '0.3' is not supported")]
    [InlineData("""{"specversion":"1.0","source":"s","type":"user.created"}""", "no 'id' attribute")]
    [InlineData("""{"specversion":"1.0","id":"1","type":"user.created"}""", "no 'source' attribute")]
    [InlineData("""{"specversion":"1.0","id":"1","source":"s","type":"Created"}""", "not a Herald topic")]
    [InlineData("""{"specversion":"1.0","id":"1","source":"s","type":"user.created","time":"yesterday"}""", "'yesterday' is not an RFC 3339 timestamp")]
    [InlineData("""{"specversion":"1.0","id":7,"source":"s","type":"user.created"}""", "'id' attribute must be a string")]
    public void Decode_Malformed_ThrowsNamingProblem(string json, string problem)
    {
        EventDecodingException ex = Assert.Throws<EventDecodingException>(() => CloudEventJsonFormatter.Decode(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeData_PayloadOfWrongShape_ThrowsNamingEventAndType()
    {
        byte[] json = Encoding.UTF8.GetBytes("""{"specversion":"1.0","id":"e-1","source":"s","type":"user.created","data":{"id":"not a number"}}""");
        Envelope envelope = CloudEventJsonFormatter.Decode(json);

        EventDecodingException ex = Assert.Throws<EventDecodingException>(() => Formatter.DecodeData(envelope, typeof(UserCreated)));
        Assert.Contains("e-1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("user.created", ex.Message, StringComparison.Ordinal);
        Assert.Contains(typeof(UserCreated).FullName!, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Serializer_WithoutResolver_IsRefusedWithAHint()
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => new SystemTextJsonEventSerializer(new JsonSerializerOptions()));
        Assert.Contains("TypeInfoResolver", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_ABadType_IsRefusedEveryTime_EvenRightAfterTheSameTextWasRead()
    {
        // The decoder keeps the last type it read per thread and skips the topic check for the same text again: a
        // type that failed the check must not be kept.
        byte[] bad = Encoding.UTF8.GetBytes("""{"specversion":"1.0","id":"1","source":"s","type":"Not A Topic"}""");
        byte[] good = Encoding.UTF8.GetBytes("""{"specversion":"1.0","id":"2","source":"s","type":"user.created"}""");
        for (int i = 0; i < 3; i++)
        {
            Assert.Contains("not a Herald topic", Assert.Throws<EventDecodingException>(() => CloudEventJsonFormatter.Decode(bad)).Message, StringComparison.Ordinal);
            Assert.Contains("not a Herald topic", Assert.Throws<EventDecodingException>(() => CloudEventJsonFormatter.Decode(bad)).Message, StringComparison.Ordinal);
            Assert.Equal("user.created", CloudEventJsonFormatter.Decode(good).Type);
            Assert.Equal("user.created", CloudEventJsonFormatter.Decode(good).Type);
        }
    }

    [Theory]
    [InlineData("2026-12-03T15:31:46.1234567+00:00")]
    [InlineData("2026-12-03T15:31:46.1234567Z")]
    [InlineData("2026-12-03T17:31:46+02:00")]
    [InlineData("2026-12-03T15:31:46.5-05:30")]
    [InlineData("2026-12-03t15:31:46z")]
    [InlineData("2026-12-03 15:31:46Z")]
    public void Decode_Time_IsReadAsRfc3339WithItsOffset(string time)
    {
        byte[] json = Encoding.UTF8.GetBytes($$"""{"specversion":"1.0","id":"1","source":"s","type":"user.created","time":"{{time}}"}""");

        DateTimeOffset read = CloudEventJsonFormatter.Decode(json).Time;

        DateTimeOffset expected = DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind);
        Assert.Equal(expected, read);
        Assert.Equal(expected.Offset, read.Offset);
    }

    [Fact]
    public void Decode_WithoutExtensions_HasNoHeaders_AndWithThem_KeepsEach()
    {
        Envelope plain = CloudEventJsonFormatter.Decode(Encoding.UTF8.GetBytes("""{"specversion":"1.0","id":"1","source":"s","type":"user.created","attempt":3}"""));
        Assert.Empty(plain.Headers);
        Assert.Equal(3, plain.Attempt);

        Envelope extended = CloudEventJsonFormatter.Decode(Encoding.UTF8.GetBytes("""{"specversion":"1.0","id":"1","source":"s","type":"user.created","tenant":"acme","shard":7,"gone":null}"""));
        Assert.Equal(new Dictionary<string, string> { ["tenant"] = "acme", ["shard"] = "7" }, extended.Headers);
    }

    [Fact]
    public void Decode_DataThatIsNotUtf8_IsRefusedAsMalformed()
    {
        byte[] head = Encoding.UTF8.GetBytes("""{"specversion":"1.0","id":"1","source":"s","type":"user.created","data":{"email":" """);
        byte[] json = [.. head, 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"}}")]; // 0xC3 0x28: not UTF-8

        EventDecodingException ex = Assert.Throws<EventDecodingException>(() => CloudEventJsonFormatter.Decode(json));
        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
    }
}
