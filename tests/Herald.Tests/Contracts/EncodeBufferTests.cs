using System.Buffers;
using System.Text;
using System.Text.Json;
using Herald.Tests.Support;

namespace Herald.Tests.Contracts;

/// <summary>
/// Encoding keeps its buffers per thread: an encode allocates its result, not 4 KB working arrays; and the kept buffers
/// never leak one event's bytes into another's (nested encodes, failed encodes, large events, many threads).
/// </summary>
public sealed class EncodeBufferTests
{
    private static readonly SystemTextJsonEventSerializer Json = new();
    private static readonly CloudEventJsonFormatter Formatter = new(Json);

    private static Envelope Event(long id, string? email = null) => new("encode.tested", new UserCreated(id, email ?? $"user{id}@example.com"), TestEvents.Now);

    private static UserCreated ReadBack(byte[] encoded)
    {
        Envelope decoded = CloudEventJsonFormatter.Decode(encoded);
        return Assert.IsType<UserCreated>(Formatter.DecodeData(decoded, typeof(UserCreated)));
    }

    [Fact]
    public void Encode_AllocatesLittleMoreThanItsResult()
    {
        Envelope envelope = Event(1);
        byte[] first = Formatter.Encode(envelope); // warms this thread's buffers and the serializer's metadata

        long before = GC.GetAllocatedBytesForCurrentThread();
        byte[] again = Formatter.Encode(envelope);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(first, again);
        // The result array and the payload's own bytes; before the buffers were kept, every encode allocated two 4 KB+
        // arrays (Utf8JsonWriter asks its output for 4 KB at a time) and a writer.
        Assert.True(allocated < 2 * (again.Length + 64) + 256, $"an encode of a {again.Length}-byte event allocated {allocated} bytes");
    }

    [Fact]
    public void Encode_InsideASerializerOnTheSameThread_KeepsBothEventsApart()
    {
        var nesting = new NestingSerializer(Formatter);
        var outer = new CloudEventJsonFormatter(nesting);

        byte[] encoded = outer.Encode(Event(7));

        Envelope decoded = CloudEventJsonFormatter.Decode(encoded);
        using JsonDocument data = JsonDocument.Parse(decoded.EncodedData);
        byte[] inner = Convert.FromBase64String(data.RootElement.GetProperty("inner").GetString()!);
        Assert.Equal(99, ReadBack(inner).Id);
        Assert.Equal(7, data.RootElement.GetProperty("id").GetInt64());
    }

    [Fact]
    public void Encode_AfterASerializerFailed_WritesNothingOfTheFailedEvent()
    {
        var failing = new CloudEventJsonFormatter(new FailingSerializer());
        Assert.Throws<InvalidOperationException>(() => failing.Encode(Event(1, "half-written@example.com")));

        byte[] encoded = Formatter.Encode(Event(2));

        Assert.DoesNotContain("half-written", Encoding.UTF8.GetString(encoded), StringComparison.Ordinal);
        Assert.Equal(2, ReadBack(encoded).Id);
    }

    [Fact]
    public void Encode_ALargeEvent_ThenSmallOnes_EachComplete()
    {
        string large = new('x', ScratchBuffersMax * 2);
        byte[] big = Formatter.Encode(Event(1, large));
        byte[] small = Formatter.Encode(Event(2));

        Assert.Equal(large, ReadBack(big).Email);
        Assert.Equal(2, ReadBack(small).Id);
        Assert.True(small.Length < 1024, $"a small event encoded to {small.Length} bytes");
    }

    [Fact]
    public async Task Encode_OnFourThreadsAtOnce_EachEventReadsBackAsItself()
    {
        const int PerThread = 5_000;
        Task[] threads = [.. Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                long id = (t * PerThread) + i;
                string email = new string('a', i % 700) + "@t" + t; // sizes vary, so a stale tail would show
                UserCreated read = ReadBack(Formatter.Encode(Event(id, email)));
                Assert.Equal(id, read.Id);
                Assert.Equal(email, read.Email);

                (ReadOnlyMemory<byte> body, _) = EnvelopePayload.Encode(Event(id, email), Json);
                Assert.Equal(email, JsonSerializer.Deserialize<UserCreated>(body.Span, JsonSerializerOptions.Web)!.Email);
            }
        }))];

        await Task.WhenAll(threads);
    }

    private const int ScratchBuffersMax = ScratchBuffers.MaxKept;

    private sealed record UserCreated(long Id, string Email);

    /// <summary>Writes its event with another event encoded inside it, on the same thread.</summary>
    private sealed class NestingSerializer(CloudEventJsonFormatter inner) : IEventSerializer
    {
        public string ContentType => "application/json";

        public void Serialize(IBufferWriter<byte> output, object data, Type type)
        {
            byte[] nested = inner.Encode(Event(99));
            using var writer = new Utf8JsonWriter(output);
            writer.WriteStartObject();
            writer.WriteNumber("id", ((UserCreated)data).Id);
            writer.WriteBase64String("inner", nested);
            writer.WriteEndObject();
        }

        public object? Deserialize(ReadOnlySpan<byte> data, Type type) => throw new NotSupportedException();
    }

    /// <summary>Writes half an event, then fails.</summary>
    private sealed class FailingSerializer : IEventSerializer
    {
        public string ContentType => "application/json";

        public void Serialize(IBufferWriter<byte> output, object data, Type type)
        {
            output.Write(Encoding.UTF8.GetBytes("{\"email\":\"" + ((UserCreated)data).Email));
            throw new InvalidOperationException("the serializer failed half way");
        }

        public object? Deserialize(ReadOnlySpan<byte> data, Type type) => throw new NotSupportedException();
    }
}
