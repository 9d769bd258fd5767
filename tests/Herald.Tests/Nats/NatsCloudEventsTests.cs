using System.Text;
using Herald.Nats;
using Herald.Tests.Support;
using NATS.Client.Core;

namespace Herald.Tests.Nats;

/// <summary>The CloudEvents NATS binding: binary mode both ways, structured mode on the way in, percent-encoding as the binding says.</summary>
public sealed class NatsCloudEventsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void BinaryMode_RoundTrips_EveryAttribute()
    {
        var envelope = new Envelope("user.created", TestEvents.User(42), Now)
        {
            Subject = "user 42 € 😀",
            CorrelationId = "c-1",
            CausationId = "c-0",
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            Headers = new Dictionary<string, string> { ["tenant"] = "t\"1%" },
        }.WithAttempt(3);
        (NatsHeaders headers, ReadOnlyMemory<byte> body) = NatsCloudEvents.Encode(envelope, new SystemTextJsonEventSerializer());

        Assert.Equal("1.0", headers["ce-specversion"].ToString());
        Assert.Equal("user.created", headers["ce-type"].ToString());
        Assert.Equal("application/json", headers["ce-datacontenttype"].ToString());
        Assert.Equal("user%2042%20%E2%82%AC%20%F0%9F%98%80", headers["ce-subject"].ToString()); // the binding's own example shape
        Assert.All(headers, h => Assert.All(h.Value.ToString(), c => Assert.InRange(c, '!', '~')));

        Envelope read = NatsCloudEvents.Decode(headers, body, Now.AddDays(1));
        Assert.Equal(envelope.Id, read.Id);
        Assert.Equal(envelope.Subject, read.Subject);
        Assert.Equal(envelope.Time, read.Time);
        Assert.Equal(3, read.Attempt);
        Assert.Equal("c-1", read.CorrelationId);
        Assert.Equal(envelope.TraceParent, read.TraceParent);
        Assert.Equal("t\"1%", read.Headers["tenant"]);
        Assert.Equal("application/json", read.DataContentType);
        Assert.Contains("\"id\":42", Encoding.UTF8.GetString(read.EncodedData.Span), StringComparison.Ordinal);
    }

    [Fact]
    public void StructuredMode_IsAcceptedOnTheWayIn()
    {
        var headers = new NatsHeaders { ["Content-Type"] = "application/cloudevents+json; charset=utf-8" };
        byte[] body = """{"specversion":"1.0","type":"user.created","source":"urn:x","id":"s-1","data":{"Id":7}}"""u8.ToArray();
        Envelope read = NatsCloudEvents.Decode(headers, body, Now);
        Assert.Equal("s-1", read.Id);
        Assert.Equal("user.created", read.Type);
    }

    [Theory]
    [InlineData(null, "no ce-specversion")]
    [InlineData("ce-specversion:0.3", "specversion '0.3'")]
    [InlineData("ce-type:User..Created", "not a Herald topic")]
    [InlineData("ce-id:", "empty id")]
    [InlineData("ce-id:%ZZ", "percent-encoded")]
    [InlineData("ce-id:%C0%A0", "not UTF-8")]
    [InlineData("ce-time:yesterday", "RFC 3339")]
    [InlineData("ce-Bad_Name:x", "extension 'bad_name'")]
    public void Malformed_IsAnEventDecodingException_NamingTheProblem(string? change, string expected)
    {
        var headers = new NatsHeaders
        {
            ["ce-specversion"] = "1.0",
            ["ce-type"] = "user.created",
            ["ce-source"] = "urn:x",
            ["ce-id"] = "1",
        };
        if (change is null)
        {
            headers.Clear();
        }
        else
        {
            string[] parts = change.Split(':', 2);
            headers[parts[0]] = parts[1];
        }

        EventDecodingException refused = Assert.Throws<EventDecodingException>(() => NatsCloudEvents.Decode(headers, "{}"u8.ToArray(), Now));
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FuzzedHeaders_OnlyEverRaiseEventDecodingException()
    {
        var random = new Random(18);
        string[] names = ["ce-specversion", "ce-type", "ce-id", "ce-source", "ce-time", "ce-attempt", "ce-subject", "ce-x", "ce-", "Content-Type", "ce-datacontenttype"];
        string[] values = ["", "1.0", "user.created", "%", "%4", "%FF%FE", "%E2%82%AC", "\"quoted\\\"\"", "application/cloudevents+json", "application/cloudevents-batch+json", "9999-12-31T23:59:59Z", "-1", "2147483648"];
        int decoded = 0;
        const int Inputs = 20_000;
        for (int i = 0; i < Inputs; i++)
        {
            var headers = new NatsHeaders { ["ce-specversion"] = "1.0", ["ce-type"] = "user.created", ["ce-source"] = "urn:x", ["ce-id"] = "1" };
            for (int e = random.Next(4); e >= 0; e--)
            {
                headers[names[random.Next(names.Length)]] = values[random.Next(values.Length)];
            }

            byte[] body = new byte[random.Next(40)];
            random.NextBytes(body);
            try
            {
                NatsCloudEvents.Decode(headers, body, Now);
                decoded++;
            }
            catch (EventDecodingException)
            {
                // the one documented failure
            }
        }

        Assert.InRange(decoded, 1, Inputs - 1);
    }
}
