using Herald.Tests.Nats;
using Herald.Tests.Postgres;
using Herald.Tests.RabbitMQ;
using Herald.Tests.Support;

namespace Herald.Tests.Formats;

/// <summary>The migration (<see cref="MixedFormatsScenario"/>) in a SQLite file: structured CloudEvents, binary payloads in data_base64.</summary>
public sealed class MixedFormatsOnSqliteTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task JsonAndMessagePackOnOneTopic_AreBothRead_ByTheirContentType()
    {
        await MixedFormatsScenario.RunAsync((h, serializer) => h.UseSqlite(_db.ConnectionString, o =>
        {
            o.PollInterval = TimeSpan.FromMilliseconds(20);
            o.Serializer = serializer ?? o.Serializer;
        }));

        string stored = System.Text.Encoding.UTF8.GetString((byte[])_db.Scalar("SELECT envelope FROM herald_messages WHERE topic = 'formats.order-packed'")!);
        Assert.Contains("\"datacontenttype\":\"application/msgpack\"", stored, StringComparison.Ordinal);
        Assert.Contains("\"data_base64\":", stored, StringComparison.Ordinal);
    }
}

/// <summary>The migration on RabbitMQ (binary mode: the content type in the message's content_type).</summary>
[Collection(BrokerCollection.Name)]
public sealed class MixedFormatsOnRabbitMqTests(RabbitMqBroker broker)
{
    private readonly string _unique = $"f{Guid.NewGuid():N}"[..12];

    [Fact]
    public Task JsonAndMessagePackOnOneTopic_AreBothRead_ByTheirContentType() =>
        MixedFormatsScenario.RunAsync((h, serializer) => h.UseRabbitMQ(broker.Uri, o =>
        {
            o.Exchange = _unique;
            o.QueuePrefix = _unique + ".";
            o.Serializer = serializer ?? o.Serializer;
        }));
}

/// <summary>The migration on NATS JetStream (binary mode: the content type in ce-datacontenttype).</summary>
[Collection(NatsCollection.Name)]
public sealed class MixedFormatsOnNatsTests(NatsServer server)
{
    private readonly string _unique = $"f{Guid.NewGuid():N}"[..12];

    [Fact]
    public Task JsonAndMessagePackOnOneTopic_AreBothRead_ByTheirContentType() =>
        MixedFormatsScenario.RunAsync((h, serializer) => h.UseNats(server.Url, o =>
        {
            o.Stream = _unique.ToUpperInvariant();
            o.SubjectPrefix = _unique;
            o.Serializer = serializer ?? o.Serializer;
        }));
}

/// <summary>The migration on PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MixedFormatsOnPostgresTests(PostgresServer server)
{
    private readonly string _schema = $"f{Guid.NewGuid():N}"[..16];

    [Fact]
    public async Task JsonAndMessagePackOnOneTopic_AreBothRead_ByTheirContentType()
    {
        string cs = await server.CreateDatabaseAsync("formats");
        await MixedFormatsScenario.RunAsync((h, serializer) => h.UsePostgres(cs, o =>
        {
            o.Schema = _schema;
            o.PollInterval = TimeSpan.FromMilliseconds(50);
            o.Serializer = serializer ?? o.Serializer;
        }));
    }
}
