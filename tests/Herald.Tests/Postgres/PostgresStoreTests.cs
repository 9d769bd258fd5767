using Herald.Postgres;
using Herald.Testing;
using Herald.Tests.Support;
using Npgsql;

namespace Herald.Tests.Postgres;

/// <summary>
/// What is PostgreSQL's own in the event store: readers never skip a position although writers' transactions commit
/// out of order, and the schema (made once by many processes at once, another application's or a newer Herald's refused).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreTests(PostgresServer server)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static Envelope[] Events(long from, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new Envelope("order.paid", new OrderPaid(from + i, 10m), Now))];

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Transaction A appends first and commits last; B appends after and would commit first. A naive table (positions
    /// from a sequence, read as position > checkpoint) lets a reader pass A's position before A commits and never see it:
    /// shown on a plain table. The store makes B wait for A, so the reader sees A's event, then B's, none skipped.
    /// </summary>
    [Fact]
    public async Task OutOfOrderCommits_AreNeverSkippedByAReader_WhileANaiveTableSkipsThem()
    {
        string cs = await server.CreateDatabaseAsync("ooo");

        // The naive table: a sequence at insert, a reader that remembers the highest position it saw.
        await using (var a = new NpgsqlConnection(cs))
        await using (var b = new NpgsqlConnection(cs))
        await using (var reader = new NpgsqlConnection(cs))
        {
            await Task.WhenAll(a.OpenAsync(), b.OpenAsync(), reader.OpenAsync());
            await ExecuteAsync(reader, null, "CREATE TABLE naive (position bigserial PRIMARY KEY, what text NOT NULL)");
            await using NpgsqlTransaction ta = await a.BeginTransactionAsync();
            await ExecuteAsync(a, ta, "INSERT INTO naive (what) VALUES ('a')"); // position 1, not committed
            await using (NpgsqlTransaction tb = await b.BeginTransactionAsync())
            {
                await ExecuteAsync(b, tb, "INSERT INTO naive (what) VALUES ('b')"); // position 2
                await tb.CommitAsync();
            }

            long checkpoint = await NaiveReadAsync(reader, 0, []);
            await ta.CommitAsync();
            var seen = new List<string>();
            await NaiveReadAsync(reader, checkpoint, seen);
            Assert.Equal(2, checkpoint);
            Assert.Empty(seen); // 'a' (position 1) committed after the reader passed 2: skipped for good
        }

        // The store: the same interleaving.
        await using var store = new PostgresEventStore(new PostgresOptions { ConnectionString = cs, Schema = "store" });
        await store.AppendAsync("seed-1", Events(0, 1), ExpectedVersion.NoStream); // the schema made, position 1
        await using var callers = new NpgsqlConnection(cs);
        await callers.OpenAsync();
        NpgsqlTransaction first = await callers.BeginTransactionAsync();
        AppendResult firstResult = await store.AppendAsync("order-a", Events(1, 2), ExpectedVersion.NoStream, first);
        Task<AppendResult> second = store.AppendAsync("order-b", Events(3, 1), ExpectedVersion.NoStream); // waits for the first to commit

        Assert.Equal([1L], (await store.ReadAllAsync(1, 100)).Select(e => e.Position)); // neither visible yet
        Assert.False(second.IsCompleted);
        await first.CommitAsync();
        AppendResult secondResult = await second.WaitAsync(TimeSpan.FromSeconds(30));
        await first.DisposeAsync();

        Assert.Equal(3, firstResult.LastPosition);
        Assert.Equal(4, secondResult.LastPosition);
        Assert.Equal([1L, 2, 3, 4], (await store.ReadAllAsync(1, 100)).Select(e => e.Position));
    }

    private static async Task<long> NaiveReadAsync(NpgsqlConnection connection, long after, List<string> seen)
    {
        await using var command = new NpgsqlCommand("SELECT position, what FROM naive WHERE position > $1 ORDER BY position", connection);
        command.Parameters.AddWithValue(after);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        long last = after;
        while (await reader.ReadAsync())
        {
            last = reader.GetInt64(0);
            seen.Add(reader.GetString(1));
        }

        return last;
    }

    /// <summary>
    /// Writers whose transactions stay open for random times (so they would commit out of order) append while a
    /// subscription catches up and reads live: every position from 1 to the last, once each, in order.
    /// </summary>
    [Fact]
    public async Task CatchUp_WithWritersCommittingOutOfOrder_HasNoGapAndNoDuplicate()
    {
        string cs = await server.CreateDatabaseAsync("catch");
        await using var store = new PostgresEventStore(new PostgresOptions { ConnectionString = cs, PollInterval = TimeSpan.FromMilliseconds(20) });
        await store.AppendAsync("order-0", Events(0, 100), ExpectedVersion.NoStream);
        const int Writers = 6;
        const int Each = 40;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        Task writers = Parallel.ForAsync(0, Writers, cts.Token, async (w, ct) =>
        {
            var random = new Random(w);
            await using var connection = new NpgsqlConnection(cs);
            await connection.OpenAsync(ct);
            for (int i = 0; i < Each; i++)
            {
                if (i % 2 == 0)
                {
                    // In the writer's own transaction, held open a little after the append, next to other work.
                    await using NpgsqlTransaction tx = await connection.BeginTransactionAsync(ct);
                    await store.AppendAsync($"order-w{w}", Events(i, 2), ExpectedVersion.Any, tx, ct);
                    await Task.Delay(random.Next(0, 5), ct);
                    await tx.CommitAsync(ct);
                }
                else
                {
                    await store.AppendAsync($"order-w{w}", Events(i, 2), ExpectedVersion.Any, cancellationToken: ct);
                }
            }
        });

        var positions = new List<long>();
        await foreach (RecordedEvent recorded in store.SubscribeAsync(1, category: null, cts.Token))
        {
            positions.Add(recorded.Position);
            if (positions.Count == 100 + (Writers * Each * 2))
            {
                break;
            }
        }

        await writers;
        Assert.Equal(Enumerable.Range(1, 100 + (Writers * Each * 2)).Select(p => (long)p), positions);
    }

    /// <summary>Eight stores opening one new schema at once: it is made once, and all of them work.</summary>
    [Fact]
    public async Task ManyProcessesStartingTogether_MakeTheSchemaOnce()
    {
        string cs = await server.CreateDatabaseAsync("mig");
        PostgresEventStore[] stores = [.. Enumerable.Range(0, 8).Select(_ => new PostgresEventStore(new PostgresOptions { ConnectionString = cs }))];
        try
        {
            await Task.WhenAll(stores.Select((s, i) => s.AppendAsync($"order-{i}", Events(i, 1), ExpectedVersion.NoStream)));
            Assert.Equal(8, await stores[0].GetLastPositionAsync());
        }
        finally
        {
            foreach (PostgresEventStore store in stores)
            {
                await store.DisposeAsync();
            }
        }

        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT product || ' ' || version FROM herald.herald_schema", connection);
        Assert.Equal($"herald {PostgresSchema.Latest}", await command.ExecuteScalarAsync());
    }

    /// <summary>A schema an older Herald made (version 2), with an event waiting in a group: brought to the newest version, and the event delivered.</summary>
    [Fact]
    public async Task AnOlderSchema_WithEventsWaiting_IsMigrated_AndItsEventsDelivered()
    {
        string cs = await server.CreateDatabaseAsync("old");
        await using (var connection = new NpgsqlConnection(cs))
        {
            await connection.OpenAsync();
            string older = "CREATE SCHEMA herald; CREATE TABLE herald.herald_schema (product text NOT NULL, version int NOT NULL); INSERT INTO herald.herald_schema VALUES ('herald', 2);"
                + string.Concat(PostgresSchema.Migrations.Take(2).Select(m => m.Replace("{s}", "\"herald\"", StringComparison.Ordinal)));
            await using (var create = new NpgsqlCommand(older, connection))
            {
                await create.ExecuteNonQueryAsync();
            }

            var envelope = new Envelope("user.created", new UserCreated(7, "old@example.com", DateTimeOffset.UnixEpoch), DateTimeOffset.UnixEpoch);
            await using var insert = new NpgsqlCommand(
                "INSERT INTO herald.groups (name, pattern, regex, ordered) VALUES ('welcome', 'user.created', @regex, false); "
                + "INSERT INTO herald.messages (group_name, event_id, topic, envelope) VALUES ('welcome', @id, 'user.created', @envelope)",
                connection);
            insert.Parameters.AddWithValue("regex", PostgresPatterns.Regex(TopicPattern.Parse("user.created")));
            insert.Parameters.AddWithValue("id", envelope.Id);
            insert.Parameters.AddWithValue("envelope", new CloudEventJsonFormatter(new SystemTextJsonEventSerializer()).Encode(envelope));
            await insert.ExecuteNonQueryAsync();
        }

        await using (HeraldTestHarness harness = await HeraldTestHarness.StartAsync(h =>
        {
            h.UsePostgres(cs, o => o.PollInterval = TimeSpan.FromMilliseconds(50));
            h.AddHandler<Herald.Tests.Cli.CliPostgresTests.Email, UserCreated>(o => o.Name = "welcome");
        }))
        {
            await harness.Consumed<UserCreated>(e => e.Event.Id == 7);
            await harness.Bus.PublishAsync(new UserCreated(8, "new@example.com", DateTimeOffset.UnixEpoch));
            await harness.Consumed<UserCreated>(e => e.Event.Id == 8);
        }

        await using var check = new NpgsqlConnection(cs);
        await check.OpenAsync();
        await using var version = new NpgsqlCommand("SELECT version FROM herald.herald_schema", check);
        Assert.Equal(PostgresSchema.Latest, await version.ExecuteScalarAsync());
    }

    /// <summary>Another application's schema, and a newer Herald's, are refused with what was found, and left as they are.</summary>
    [Fact]
    public async Task AForeignOrNewerSchema_IsRefused_AndLeftAlone()
    {
        string cs = await server.CreateDatabaseAsync("foreign");
        await using (var connection = new NpgsqlConnection(cs))
        {
            await connection.OpenAsync();
            await ExecuteAsync(connection, null, "CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int); CREATE SCHEMA future; CREATE TABLE future.herald_schema (product text, version int); INSERT INTO future.herald_schema VALUES ('herald', 99)");
        }

        await using var foreign = new PostgresEventStore(new PostgresOptions { ConnectionString = cs, Schema = "billing" });
        PostgresSchemaException refused = await Assert.ThrowsAsync<PostgresSchemaException>(() => foreign.GetLastPositionAsync());
        Assert.Contains("'billing'", refused.Message);
        Assert.Contains("another application's", refused.Message);

        await using var newer = new PostgresEventStore(new PostgresOptions { ConnectionString = cs, Schema = "future" });
        PostgresSchemaException future = await Assert.ThrowsAsync<PostgresSchemaException>(() => newer.GetLastPositionAsync());
        Assert.Contains("version 99", future.Message);
        Assert.Contains("newer Herald", future.Message);

        await using var check = new NpgsqlConnection(cs);
        await check.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE schemaname = 'billing'", check);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }

    /// <summary>Herald's statements are prepared on each connection and its pooled connections are not reset, unless the connection string says otherwise (behind a pooler in transaction mode).</summary>
    [Fact]
    public async Task StatementsArePrepared_UnlessTheConnectionStringSaysOtherwise()
    {
        static async Task<int> AutoPrepareAsync(string cs)
        {
            await using var database = new PostgresDatabase(new PostgresOptions { ConnectionString = cs });
            return new NpgsqlConnectionStringBuilder(database.DataSource.ConnectionString).MaxAutoPrepare;
        }

        static async Task<bool> ResetsAsync(string cs)
        {
            await using var database = new PostgresDatabase(new PostgresOptions { ConnectionString = cs });
            return !new NpgsqlConnectionStringBuilder(database.DataSource.ConnectionString).NoResetOnClose;
        }

        Assert.False(await ResetsAsync("Host=db")); // Herald leaves no session state on its connections
        Assert.True(await ResetsAsync("Host=db;No Reset On Close=false"));

        Assert.Equal(64, await AutoPrepareAsync("Host=db"));
        Assert.Equal(0, await AutoPrepareAsync("Host=db;Max Auto Prepare=0"));
        Assert.Equal(0, await AutoPrepareAsync("Host=db;MaxAutoPrepare=0"));
        Assert.Equal(5, await AutoPrepareAsync("Host=db;Max Auto Prepare=5"));
    }

    /// <summary>Options and transactions that cannot work are refused naming the problem.</summary>
    [Fact]
    public async Task BadOptionsAndForeignTransactions_AreRefusedClearly()
    {
        Assert.Contains("ConnectionString is required", Assert.Throws<ArgumentException>(() => new PostgresEventStore(new PostgresOptions())).Message);
        Assert.Contains("not a plain PostgreSQL identifier", Assert.Throws<ArgumentException>(() => new PostgresEventStore(new PostgresOptions { ConnectionString = "Host=x", Schema = "Bad-Name" })).Message);

        string cs = await server.CreateDatabaseAsync("tx");
        await using var store = new PostgresEventStore(new PostgresOptions { ConnectionString = cs });
        using var sqlite = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:");
        sqlite.Open();
        using var sqliteTx = sqlite.BeginTransaction();
        ArgumentException wrongKind = await Assert.ThrowsAsync<ArgumentException>(() => store.AppendAsync("order-1", Events(1, 1), ExpectedVersion.Any, sqliteTx));
        Assert.Contains("NpgsqlTransaction", wrongKind.Message);

        string other = await server.CreateDatabaseAsync("other");
        await using var connection = new NpgsqlConnection(other);
        await connection.OpenAsync();
        await using NpgsqlTransaction tx = await connection.BeginTransactionAsync();
        ArgumentException wrongDatabase = await Assert.ThrowsAsync<ArgumentException>(() => store.AppendAsync("order-1", Events(1, 1), ExpectedVersion.Any, tx));
        Assert.Contains("one database", wrongDatabase.Message);
    }
}
