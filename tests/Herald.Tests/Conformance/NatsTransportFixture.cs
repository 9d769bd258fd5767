using Herald.Testing.Transports;
using Herald.Tests.Support;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Herald.Tests.Conformance;

/// <summary>
/// A stream and a subject prefix of its own per test, on the shared test server, with the inbox in a SQLite file of its
/// own (<c>UseSqliteInbox</c>): the server redelivers, the inbox makes the effect once across restarts.
/// </summary>
public sealed class NatsTransportFixture(NatsServer server) : TransportFixture
{
    private readonly string _unique = $"c{Guid.NewGuid():N}"[..12];
    private readonly TempDatabase _inbox = new("inbox.db");

    public override TransportFeatures Features { get; } = new() { Durable = true, DurableInbox = true, DeduplicatesPublishes = true };

    public string Stream => _unique.ToUpperInvariant();

    public override void Use(HeraldBuilder herald)
    {
        herald.UseNats(server.Url, o =>
        {
            o.Stream = Stream;
            o.SubjectPrefix = _unique;
        });
        herald.UseSqliteInbox(_inbox.ConnectionString);
    }

    public override ValueTask DisposeAsync()
    {
        _inbox.Dispose();
        return base.DisposeAsync();
    }

    /// <summary>Publishes raw bytes to the topic's subject as a foreign producer would, stored, so they come before what the test publishes next.</summary>
    public override async ValueTask<bool> InjectAsync(string topic, PoisonKind kind, CancellationToken cancellationToken)
    {
        var headers = new NatsHeaders();
        byte[] body = "not a cloud event"u8.ToArray();
        if (kind == PoisonKind.MalformedAttribute)
        {
            headers["ce-specversion"] = "1.0";
            headers["ce-type"] = topic;
            headers["ce-source"] = "urn:test";
            headers["ce-id"] = "%ZZ"; // not percent-encoding
            headers["ce-datacontenttype"] = "application/json";
            body = "{}"u8.ToArray();
        }

        await using var connection = new NatsConnection(new NatsOpts { Url = server.Url });
        var js = new NatsJSContext(connection);
        var ack = await js.PublishAsync($"{_unique}.{topic}", body, headers: headers, cancellationToken: cancellationToken);
        Assert.Null(ack.Error);
        return true;
    }

    /// <summary>The groups whose durable consumers exist on this test's stream, without their extra filters and redrive consumers.</summary>
    public override async ValueTask<IReadOnlyCollection<string>?> ConsumerGroupsAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = server.Url });
        var js = new NatsJSContext(connection);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (string name in js.ListConsumerNamesAsync(Stream, cancellationToken))
        {
            names.Add(name.Split("__")[0]);
        }

        return names;
    }
}
