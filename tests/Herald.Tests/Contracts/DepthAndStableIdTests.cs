using System.Text;
using Herald.Tests.Support;

namespace Herald.Tests.Contracts;

/// <summary>
/// Issue 17: a payload nested as deep as a publish allows was unreadable once stored (the reader counted the envelope
/// too), and bytes that are not a CloudEvent got a new random id at every read, so links to them broke.
/// </summary>
public sealed class DepthAndStableIdTests
{
    private static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    [Fact]
    public void APayloadAsDeepAsAPublishAllows_IsReadBackStored()
    {
        var formatter = new CloudEventJsonFormatter(new SystemTextJsonEventSerializer());
        byte[] payload = Encoding.UTF8.GetBytes(Nested(CloudEventJsonFormatter.MaxDataDepth));
        using (System.Text.Json.JsonDocument.Parse(payload, new System.Text.Json.JsonDocumentOptions { MaxDepth = CloudEventJsonFormatter.MaxDataDepth }))
        {
            // a publish (and herald publish --data) accepts it
        }

        byte[] stored = formatter.Encode(new Envelope("user.created", null, TestEvents.Now) { EncodedData = payload, DataContentType = "application/json" });

        Envelope read = CloudEventJsonFormatter.Decode(stored);
        Assert.Equal(payload, read.EncodedData.ToArray());
    }

    [Fact]
    public void APayloadDeeperThanThat_IsRefusedAsUndecodable()
    {
        byte[] stored = Encoding.UTF8.GetBytes($$"""{"specversion":"1.0","type":"user.created","source":"s","id":"1","data":{{Nested(CloudEventJsonFormatter.MaxDataDepth + 1)}}}""");
        Assert.Throws<EventDecodingException>(() => CloudEventJsonFormatter.Decode(stored));
    }

    [Fact]
    public void BytesThatAreNotACloudEvent_GetTheSameIdAtEveryRead()
    {
        byte[] poison = "not a cloud event"u8.ToArray();

        Envelope first = Envelope.Undecodable("user.created", poison, TestEvents.Now);
        Envelope second = Envelope.Undecodable("user.created", poison, TestEvents.Now.AddMinutes(1));

        Assert.Equal(first.Id, second.Id);
        Assert.NotEqual(first.Id, Envelope.Undecodable("user.created", "other bytes"u8.ToArray(), TestEvents.Now).Id);
    }
}
