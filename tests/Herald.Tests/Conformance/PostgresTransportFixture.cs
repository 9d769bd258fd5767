using System.Text;
using Herald.Testing.Transports;
using Herald.Tests.Support;
using Npgsql;

namespace Herald.Tests.Conformance;

/// <summary>A schema of its own per test, on the shared test server's database (the transport, its inbox and dead letters in it).</summary>
public sealed class PostgresTransportFixture(PostgresServer server) : TransportFixture
{
    private readonly string _schema = $"c{Guid.NewGuid():N}"[..16];

    public override TransportFeatures Features { get; } = new() { Durable = true, DurableInbox = true, DurableDelay = true };

    public override void Use(HeraldBuilder herald) =>
        herald.UsePostgres(server.AdminConnectionString, o =>
        {
            o.Schema = _schema;
            o.PollInterval = TimeSpan.FromMilliseconds(50);
        });

    /// <summary>Writes a row for every group the topic reaches, as another program sharing the database could.</summary>
    public override async ValueTask<bool> InjectAsync(string topic, PoisonKind kind, CancellationToken cancellationToken)
    {
        byte[] row = kind switch
        {
            PoisonKind.NotACloudEvent => "not a cloud event"u8.ToArray(),
            _ => Encoding.UTF8.GetBytes("{\"specversion\":\"1.0\",\"type\":\"" + topic + "\",\"source\":\"urn:test\",\"id\":\"\",\"data\":{}}"),
        };
        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var insert = new NpgsqlCommand(
            $"INSERT INTO \"{_schema}\".messages (group_name, event_id, topic, envelope) SELECT name, gen_random_uuid()::text, $1, $2 FROM \"{_schema}\".groups WHERE '.' || $1 ~ regex",
            connection);
        insert.Parameters.AddWithValue(topic);
        insert.Parameters.AddWithValue(row);
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return true;
    }

    public override async ValueTask<IReadOnlyCollection<string>?> ConsumerGroupsAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var select = new NpgsqlCommand($"SELECT name FROM \"{_schema}\".groups ORDER BY name", connection);
        var groups = new List<string>();
        await using NpgsqlDataReader reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            groups.Add(reader.GetString(0));
        }

        return groups;
    }
}
