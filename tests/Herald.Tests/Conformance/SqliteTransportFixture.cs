using System.Text;
using Herald.Sqlite;
using Herald.Testing.Transports;
using Herald.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Herald.Tests.Conformance;

/// <summary>A SQLite file of its own per test.</summary>
public sealed class SqliteTransportFixture : TransportFixture
{
    private readonly TempDatabase _db = new();

    public override TransportFeatures Features { get; } = new() { Durable = true, DurableInbox = true, DurableDelay = true };

    public override void Use(HeraldBuilder herald) =>
        herald.UseSqlite(_db.ConnectionString, o =>
        {
            o.Synchronous = SqliteSynchronous.Normal;
            o.PollInterval = TimeSpan.FromMilliseconds(20);
        });

    /// <summary>Writes a row into the message log as another program sharing the file could.</summary>
    public override ValueTask<bool> InjectAsync(string topic, PoisonKind kind, CancellationToken cancellationToken)
    {
        byte[] row = kind switch
        {
            PoisonKind.NotACloudEvent => "not a cloud event"u8.ToArray(),
            _ => Encoding.UTF8.GetBytes("{\"specversion\":\"1.0\",\"type\":\"" + topic + "\",\"source\":\"urn:test\",\"id\":\"\",\"data\":{}}"),
        };
        using var connection = new SqliteConnection(_db.ConnectionString);
        connection.Open();
        using SqliteCommand insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO herald_messages (event_id, topic, subject, target, envelope) VALUES ($i, $t, NULL, NULL, $e)";
        insert.Parameters.AddWithValue("$i", Guid.NewGuid().ToString());
        insert.Parameters.AddWithValue("$t", topic);
        insert.Parameters.AddWithValue("$e", row);
        insert.ExecuteNonQuery();
        return ValueTask.FromResult(true);
    }

    public override ValueTask<IReadOnlyCollection<string>?> ConsumerGroupsAsync(CancellationToken cancellationToken)
    {
        using var connection = new SqliteConnection(_db.ConnectionString);
        connection.Open();
        using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT name FROM herald_groups ORDER BY name";
        var groups = new List<string>();
        using SqliteDataReader reader = select.ExecuteReader();
        while (reader.Read())
        {
            groups.Add(reader.GetString(0));
        }

        return ValueTask.FromResult<IReadOnlyCollection<string>?>(groups);
    }

    public override ValueTask DisposeAsync()
    {
        _db.Dispose();
        return base.DisposeAsync();
    }
}
