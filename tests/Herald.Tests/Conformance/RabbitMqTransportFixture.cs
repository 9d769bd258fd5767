using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Herald.Sqlite;
using Herald.Testing.Transports;
using Herald.Tests.Support;
using RabbitMQ.Client;

namespace Herald.Tests.Conformance;

/// <summary>
/// An exchange and a queue prefix of its own per test, on the shared test broker, with the inbox in a SQLite file of its
/// own (<c>UseSqliteInbox</c>): the broker redelivers, the inbox makes the effect once across restarts.
/// </summary>
public sealed class RabbitMqTransportFixture(RabbitMqBroker broker) : TransportFixture
{
    private readonly string _unique = $"c{Guid.NewGuid():N}"[..12];
    private readonly TempDatabase _inbox = new("inbox.db");

    public override TransportFeatures Features { get; } = new() { Durable = true, DurableInbox = true };

    public override void Use(HeraldBuilder herald)
    {
        herald.UseRabbitMQ(broker.Uri, o =>
        {
            o.Exchange = _unique;
            o.QueuePrefix = _unique + ".";
        });
        herald.UseSqliteInbox(_inbox.ConnectionString);
    }

    public override ValueTask DisposeAsync()
    {
        _inbox.Dispose();
        return base.DisposeAsync();
    }

    /// <summary>Publishes raw bytes to the exchange as a foreign producer would, confirmed, so they are queued before what the test publishes next.</summary>
    public override async ValueTask<bool> InjectAsync(string topic, PoisonKind kind, CancellationToken cancellationToken)
    {
        var properties = new BasicProperties();
        byte[] body = "not a cloud event"u8.ToArray();
        if (kind == PoisonKind.MalformedAttribute)
        {
            properties.Headers = new Dictionary<string, object?>
            {
                ["cloudEvents_specversion"] = "1.0",
                ["cloudEvents_type"] = topic,
                ["cloudEvents_source"] = "urn:test",
                ["cloudEvents_id"] = string.Empty,
            };
            properties.ContentType = "application/json";
            body = "{}"u8.ToArray();
        }

        var factory = new ConnectionFactory { Uri = new Uri(broker.Uri) };
        await using IConnection connection = await factory.CreateConnectionAsync(cancellationToken);
        await using IChannel channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), cancellationToken);
        await channel.BasicPublishAsync(_unique, topic, mandatory: false, properties, body, cancellationToken);
        return true;
    }

    /// <summary>The groups whose queues exist under this test's prefix (through the management API), without their dead-letter and retry queues.</summary>
    public override async ValueTask<IReadOnlyCollection<string>?> ConsumerGroupsAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri(broker.ManagementUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
        List<Queue> queues = await http.GetFromJsonAsync<List<Queue>>("/api/queues/%2F?columns=name", cancellationToken) ?? [];
        string prefix = _unique + ".";
        return [.. queues.Select(q => q.Name)
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && !n.EndsWith(".dead-letter", StringComparison.Ordinal) && !n.Contains(".retry.", StringComparison.Ordinal))
            .Select(n => n[prefix.Length..])
            .Order(StringComparer.Ordinal)];
    }

    private sealed record Queue(string Name);
}
