using System.Collections.Concurrent;
using Herald.Sqlite;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Sqlite;

public sealed class SqliteTransportTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    private Task<HeraldTestHarness> StartAsync(Action<HeraldBuilder> handlers, Seen? seen = null, Action<IServiceCollection>? services = null) =>
        HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseSqlite(_db.ConnectionString, o =>
                {
                    o.Synchronous = SqliteSynchronous.Normal;
                    o.PollInterval = TimeSpan.FromMilliseconds(20);
                });
                handlers(h);
            },
            s =>
            {
                s.AddSingleton(seen ?? new Seen());
                services?.Invoke(s);
            });

    private static UserCreated User(long id) => new(id, $"u{id}@example.com", DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task Publish_IsCommittedBeforeItCompletes_AndEachGroupGetsEveryEventTyped()
    {
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(
            h =>
            {
                h.AddHandler<Email, UserCreated>();
                h.AddHandler<Points, UserCreated>();
            },
            seen);

        for (int i = 1; i <= 50; i++)
        {
            await harness.Bus.PublishAsync(User(i));
            Assert.Equal((long)i, _db.Scalar("SELECT count(*) FROM herald_messages")); // in the file when PublishAsync returns
        }

        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 100);
        Assert.Equal(50, seen.Email.Count);
        Assert.Equal(50, seen.Points.Count);
        Assert.All(seen.Email.Values, n => Assert.Equal(1, n));
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), seen.Order.Select(o => o.Id)); // one loop: log order
    }

    [Fact]
    public async Task PatternHandler_GetsTheEventTypeBoundToTheTopic()
    {
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<Audit>("user.*"), seen);
        await harness.Bus.PublishAsync(User(42));
        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 1);
        Assert.Equal([(42L, 1)], seen.Order);
    }

    [Fact]
    public async Task TypedAndPatternGroups_ReadingTheSameRows_EachGetTheirEventTyped_WhileTheRowIsDecodedOnce()
    {
        // The group readers share decoded rows (by position and payload type): a typed group, another typed group and
        // an untyped pattern group read the same 40 rows; each sees every event, typed, once.
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(
            h =>
            {
                h.AddHandler<Email, UserCreated>();
                h.AddHandler<Points, UserCreated>();
                h.AddHandler<Audit>("user.*");
            },
            seen);
        await Task.WhenAll(Enumerable.Range(1, 40).Select(i => harness.Bus.PublishAsync(User(i)).AsTask()));
        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 120);
        Assert.Equal(40, seen.Email.Count);
        Assert.Equal(40, seen.Points.Count);
        Assert.All(seen.Email.Values.Concat(seen.Points.Values), n => Assert.Equal(1, n));
        // Email and the pattern handler both record the order: each id twice.
        Assert.Equal(Enumerable.Range(1, 40).SelectMany(i => new[] { (long)i, i }), seen.Order.Select(o => o.Id).Order());
    }

    [Fact]
    public async Task InboxRecords_FromManyDeliveriesAtOnce_AreCommittedTogether_AndEachIsFoundAfterARestart()
    {
        // Records queued together go in multi-row statements (16 a statement, then one by one), after the commit's
        // other writes; a record queued twice is kept once.
        string[] ids = [.. Enumerable.Range(0, 53).Select(i => $"event-{i}")];
        await using (var inbox = new SqliteInboxStore(_db.Options()))
        {
            foreach (string id in ids)
            {
                Assert.True(await inbox.TryBeginAsync("risk", id, CancellationToken.None));
            }

            await Task.WhenAll(ids.Select(id => inbox.CompleteAsync("risk", id, CancellationToken.None).AsTask()));
            await inbox.CompleteAsync("risk", ids[0], CancellationToken.None); // a repeat: nothing new
        }

        Assert.Equal(53L, _db.Scalar("SELECT count(*) FROM herald_inbox_records i JOIN herald_consumers c ON c.id = i.consumer WHERE c.name = 'risk'"));
        await using (var reopened = new SqliteInboxStore(_db.Options()))
        {
            foreach (string id in ids)
            {
                Assert.False(await reopened.TryBeginAsync("risk", id, CancellationToken.None), id);
            }

            Assert.True(await reopened.TryBeginAsync("points", ids[0], CancellationToken.None)); // per consumer
            Assert.True(await reopened.TryBeginAsync("risk", "event-new", CancellationToken.None));
        }
    }

    [Fact]
    public async Task AConsumerNumberMadeInACommitThatFailed_IsNotUsedAfterwards_ForItMayBelongToAnotherNameNow()
    {
        await using var database = new SqliteDatabase(_db.Options());
        await using var inbox = new SqliteInboxStore(database);
        Assert.True(await inbox.TryBeginAsync("warm", "e0", CancellationToken.None)); // creates the schema
        await inbox.CompleteAsync("warm", "e0", CancellationToken.None); // the writer opens and prepares its statements
        await SettleAsync(database);
        Assert.True(await inbox.TryBeginAsync("first", "e1", CancellationToken.None)); // the claim is held
        using var connection = new SqliteConnection(_db.ConnectionString);
        connection.Open();
        using SqliteCommand sql = connection.CreateCommand();

        // The record's commit numbers "first", then fails on the inbox insert and rolls the number back.
        sql.CommandText = "ALTER TABLE herald_inbox_records RENAME TO herald_inbox_away";
        sql.ExecuteNonQuery();
        await inbox.CompleteAsync("first", "e1", CancellationToken.None);
        await SettleAsync(database);
        sql.CommandText = "ALTER TABLE herald_inbox_away RENAME TO herald_inbox_records";
        sql.ExecuteNonQuery();
        Assert.Equal(0L, _db.Scalar("SELECT count(*) FROM herald_consumers WHERE name = 'first'"));

        // Another process numbers another consumer: it gets the number the failed commit had made.
        sql.CommandText = "INSERT INTO herald_consumers (name) VALUES ('other')";
        sql.ExecuteNonQuery();

        Assert.True(await inbox.TryBeginAsync("first", "e1", CancellationToken.None)); // not recorded: handled again
        await inbox.CompleteAsync("first", "e1", CancellationToken.None);
        await SettleAsync(database);

        Assert.Equal(1L, _db.Scalar("SELECT count(*) FROM herald_inbox_records i JOIN herald_consumers c ON c.id = i.consumer WHERE c.name = 'first' AND i.event_id = 'e1'"));
        Assert.Equal(0L, _db.Scalar("SELECT count(*) FROM herald_inbox_records i JOIN herald_consumers c ON c.id = i.consumer WHERE c.name = 'other'"));
    }

    /// <summary>Waits until the writer has committed (or failed) everything queued before: an awaited write after it.</summary>
    private static async Task SettleAsync(SqliteDatabase database)
    {
        try
        {
            await database.Writer.EnqueueAsync(WriteOp.Of(_ => { }));
        }
        catch (SqliteException)
        {
            // it shared the failing commit
        }
    }

    [Fact]
    public async Task AnInboxLookupThatFails_LeavesNoClaimBehind_SoTheEventIsNotTakenForADuplicateAfterwards()
    {
        await using var inbox = new SqliteInboxStore(_db.Options());
        Assert.True(await inbox.TryBeginAsync("risk", "warm", CancellationToken.None)); // creates the schema, keeps a lookup
        using (var connection = new SqliteConnection(_db.ConnectionString))
        {
            connection.Open();
            using SqliteCommand rename = connection.CreateCommand();
            rename.CommandText = "ALTER TABLE herald_inbox_records RENAME TO herald_inbox_away";
            rename.ExecuteNonQuery();
            await Assert.ThrowsAsync<SqliteException>(async () => await inbox.TryBeginAsync("risk", "e1", CancellationToken.None));
            rename.CommandText = "ALTER TABLE herald_inbox_away RENAME TO herald_inbox_records";
            rename.ExecuteNonQuery();
        }

        Assert.True(await inbox.TryBeginAsync("risk", "e1", CancellationToken.None)); // not "being handled already"
    }

    [Fact]
    public async Task AStoredPayloadThatCannotBeDecoded_IsDeadLetteredWithItsReason_AndTheConsumerCarriesOn()
    {
        var seen = new Seen();
        await using (HeraldTestHarness first = await StartAsync(h => h.AddHandler<Email, UserCreated>(), seen))
        {
            await first.Bus.PublishAsync(User(1));
            await first.Consumed<UserCreated>();
        }

        // An older schema wrote this event: its payload has the wrong shape; and a row that is not even JSON.
        await using (HeraldTestHarness publisher = await StartAsync(_ => { }))
        {
            await publisher.Bus.PublishAsync(User(2));
            await publisher.Bus.PublishAsync(User(3));
            await publisher.Bus.PublishAsync(User(4));
        }

        _db.Scalar("UPDATE herald_messages SET envelope = CAST(replace(CAST(envelope AS TEXT), '\"id\":2,', '\"id\":\"two\",') AS BLOB) WHERE position = 2");
        _db.Scalar("UPDATE herald_messages SET envelope = CAST('{ this is not json' AS BLOB) WHERE position = 3");

        await using HeraldTestHarness second = await StartAsync(h => h.AddHandler<Email, UserCreated>(), seen);
        await second.Consumed<UserCreated>(e => e.Event.Id == 4);
        // (The harness's own "#" subscription is a durable group too, and may dead-letter the same rows as its own.)
        DeadLetter[] dead = [.. (await second.DeadLetters.ListAsync()).Where(d => d.Consumer == nameof(Email))];
        Assert.Equal(2, dead.Length);
        Assert.All(dead, d => Assert.Equal("poison", d.Reason));
        Assert.Contains("position 2", dead[0].ExceptionMessage);
        Assert.Contains("position 3", dead[1].ExceptionMessage);
        Assert.Equal(2, seen.Email.Count); // users 1 and 4
    }

    [Fact]
    public async Task ManyRowsThatCannotBeDecoded_ReadByTwoGroupsAtOnce_AreDeadLetteredByEach_WithTheirStoredBytes()
    {
        // The groups of one process share one decode per row, and a group that finds a row decoded (or being decoded)
        // by another reads it without its bytes: a row that fails to decode must still reach each group's dead letters
        // whole, with its reason.
        var seen = new Seen();
        await using (HeraldTestHarness first = await StartAsync(h => { h.AddHandler<Email, UserCreated>(); h.AddHandler<Points, UserCreated>(); }, seen))
        {
            await first.Bus.PublishAsync(User(0));
            await Poll.UntilAsync(() => seen.Email.Count == 1 && seen.Points.Count == 1, TimeSpan.FromSeconds(30), () => "both groups handled the first event");
        }

        await using (HeraldTestHarness publisher = await StartAsync(_ => { }))
        {
            for (int i = 1; i <= 200; i++)
            {
                await publisher.Bus.PublishAsync(User(i));
            }
        }

        _db.Scalar("UPDATE herald_messages SET envelope = CAST('{ not json ' || position AS BLOB) WHERE position % 10 = 3");

        await using HeraldTestHarness second = await StartAsync(h => { h.AddHandler<Email, UserCreated>(); h.AddHandler<Points, UserCreated>(); }, seen);
        await Poll.UntilAsync(() => seen.Email.Count == 181 && seen.Points.Count == 181, TimeSpan.FromSeconds(30), () => $"handled {seen.Email.Count} and {seen.Points.Count} of 181");
        await Poll.UntilAsync(
            async () => (await second.DeadLetters.ListAsync()).Count(d => d.Consumer is nameof(Email) or nameof(Points)) == 40,
            TimeSpan.FromSeconds(30),
            () => "40 dead letters (20 rows, two groups)");
        foreach (string consumer in new[] { nameof(Email), nameof(Points) })
        {
            long stored = (long)_db.Scalar($"SELECT count(*) FROM herald_dead_letters WHERE consumer = '{consumer}' AND CAST(envelope AS TEXT) LIKE '{{ not json %3'")!;
            Assert.Equal(20L, stored);
        }
    }

    [Fact]
    public async Task DeadLetters_PersistAcrossRestarts_AndRedriveDeliversAgain()
    {
        string id;
        await using (HeraldTestHarness first = await StartAsync(h => h.AddHandler<Poisoned, UserCreated>(o => o.Retry = Retry.None)))
        {
            await first.Bus.PublishAsync(User(13));
            DeadLetter dead = await first.DeadLettered<UserCreated>();
            id = dead.Id;
        }

        await using HeraldTestHarness second = await StartAsync(h => h.AddHandler<Email, UserCreated>(o => o.Name = nameof(Poisoned)));
        DeadLetter? stored = await second.DeadLetters.GetAsync(id);
        Assert.NotNull(stored);
        Assert.Contains("cursed", stored.ExceptionMessage);
        Assert.True(await second.DeadLetters.RedriveAsync(id));
        await second.Consumed<UserCreated>(e => e.Event.Id == 13);
        Assert.Equal(0, await second.DeadLetters.CountAsync());
    }

    [Fact]
    public async Task Retries_AreStored_AndContinueAfterARestart_WithTheAttemptCount()
    {
        var seen = new Seen();
        RetryPolicy policy = Retry.Exponential(maxAttempts: 3, initial: TimeSpan.FromMilliseconds(400), factor: 1, jitter: 0);
        await using (HeraldTestHarness first = await StartAsync(h => h.AddHandler<AlwaysFails, UserCreated>(o => { o.Name = "risk"; o.Retry = policy; }), seen))
        {
            await first.Bus.PublishAsync(User(9));
            await first.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Rescheduled, 1);
        }

        // Stopped before the retry was due: the retry is in the file, for this group, with its attempt number.
        Assert.Equal("risk", _db.Scalar("SELECT target FROM herald_scheduled"));
        Assert.Contains("\"attempt\":2", System.Text.Encoding.UTF8.GetString((byte[])_db.Scalar("SELECT envelope FROM herald_scheduled")!));

        await using HeraldTestHarness second = await StartAsync(h => h.AddHandler<AlwaysFails, UserCreated>(o => { o.Name = "risk"; o.Retry = policy; }), seen);
        DeadLetter dead = await second.DeadLettered<UserCreated>();
        Assert.Equal(3, dead.Attempts);
        Assert.Equal("attempts-exhausted", dead.Reason);
        Assert.Equal([(9L, 1), (9L, 2), (9L, 3)], seen.Order);
    }

    [Fact]
    public async Task ARetry_OnSqlite_IsAStoredRedelivery_ThatSucceeds()
    {
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(
            h => h.AddHandler<FailsOnce, UserCreated>(o => o.Retry = Retry.Exponential(maxAttempts: 3, initial: TimeSpan.FromMilliseconds(10))),
            seen);
        await harness.Bus.PublishAsync(User(3));
        await harness.Consumed<UserCreated>(e => e.Event.Id == 3);
        Assert.Equal([(3L, 1), (3L, 2)], seen.Order);
        Assert.Equal(0L, _db.Scalar("SELECT count(*) FROM herald_scheduled"));
    }

    /// <summary>The SQLite inbox, but releasing a failed delivery's claim late (as a starved thread pool does under load).</summary>
    public sealed class SlowToAbandonInbox(SqliteInboxStore inner) : IInboxStore
    {
        public ValueTask<bool> TryBeginAsync(string consumer, string eventId, CancellationToken cancellationToken) => inner.TryBeginAsync(consumer, eventId, cancellationToken);

        public ValueTask CompleteAsync(string consumer, string eventId, CancellationToken cancellationToken) => inner.CompleteAsync(consumer, eventId, cancellationToken);

        public async ValueTask AbandonAsync(string consumer, string eventId, CancellationToken cancellationToken)
        {
            await Task.Delay(300, cancellationToken); // the window in which a quick stored retry comes back
            await inner.AbandonAsync(consumer, eventId, cancellationToken);
        }
    }

    [Fact]
    public async Task AStoredRetry_IsStoredAfterTheFailedDeliveryLetGoOfItsClaim_SoItIsNeverTakenForADuplicate()
    {
        // Regression: the retry used to be stored inside the pipeline, while the failed delivery still held its inbox
        // claim; a retry that came back before the claim was released was taken for a duplicate and acknowledged
        // unhandled (found by the Registration sample under load: 007-users missing from the dead letters).
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(
            h =>
            {
                h.AddHandler<FailsOnce, UserCreated>(o => { o.Concurrency = 4; o.Retry = Retry.Exponential(maxAttempts: 3, initial: TimeSpan.Zero, jitter: 0); });
                h.Services.AddSingleton<IInboxStore>(sp => new SlowToAbandonInbox(sp.GetRequiredService<SqliteInboxStore>()));
            },
            seen);
        for (int i = 0; i < 20; i++)
        {
            await harness.Bus.PublishAsync(User(i));
        }

        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 20, TimeSpan.FromSeconds(20));
        Assert.Equal(20, seen.Order.Where(o => o.Attempt == 2).Select(o => o.Id).Distinct().Count());
        Assert.DoesNotContain(harness.Deliveries, d => d.Outcome == DeliveryOutcome.Duplicate);
    }

    [Fact]
    public async Task DelayedEvents_AreStored_AndDeliveredAfterARestart()
    {
        var seen = new Seen();
        await using (HeraldTestHarness first = await StartAsync(h => h.AddHandler<Email, UserCreated>(), seen))
        {
            await first.Bus.PublishAsync(User(7), new PublishOptions { Delay = TimeSpan.FromMilliseconds(700) });
            Assert.Equal(1L, _db.Scalar("SELECT count(*) FROM herald_scheduled"));
        }

        Assert.Empty(seen.Email);
        await using HeraldTestHarness second = await StartAsync(h => h.AddHandler<Email, UserCreated>(), seen);
        await second.Consumed<UserCreated>(e => e.Event.Id == 7);
        Assert.Equal(0L, _db.Scalar("SELECT count(*) FROM herald_scheduled"));
    }

    [Fact]
    public async Task Outbox_TheCallersWriteAndTheEventCommitTogether_OrNeither()
    {
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<Email, UserCreated>(), seen);
        using var connection = new SqliteConnection(_db.ConnectionString);
        connection.Open();
        Run(connection, null, "CREATE TABLE users (id INTEGER PRIMARY KEY)");

        using (SqliteTransaction rolledBack = connection.BeginTransaction())
        {
            Run(connection, rolledBack, "INSERT INTO users VALUES (1)");
            await harness.Bus.PublishAsync(User(1), new PublishOptions { Transaction = rolledBack });
            rolledBack.Rollback();
        }

        using (SqliteTransaction committed = connection.BeginTransaction())
        {
            Run(connection, committed, "INSERT INTO users VALUES (2)");
            await harness.Bus.PublishAsync(User(2), new PublishOptions { Transaction = committed });
            committed.Commit();
        }

        await harness.Consumed<UserCreated>(e => e.Event.Id == 2);
        Assert.Equal(1L, _db.Scalar("SELECT count(*) FROM users"));
        Assert.Equal(1L, _db.Scalar("SELECT count(*) FROM herald_messages"));
        Assert.DoesNotContain(seen.Order, o => o.Id == 1);
    }

    [Fact]
    public async Task Outbox_ATransactionOnAnotherFile_IsRefusedClearly()
    {
        await using HeraldTestHarness harness = await StartAsync(_ => { });
        using var other = new TempDatabase("other.db");
        using var connection = new SqliteConnection(other.ConnectionString);
        connection.Open();
        using SqliteTransaction tx = connection.BeginTransaction();
        var ex = await Assert.ThrowsAsync<ArgumentException>(async () => await harness.Bus.PublishAsync(User(1), new PublishOptions { Transaction = tx }));
        Assert.Contains("other.db", ex.Message);
        Assert.Contains("one file", ex.Message);
    }

    [Fact]
    public async Task Outbox_OnTheInMemoryBus_IsRefusedClearly()
    {
        await using var bus = new EventBus();
        using var connection = new SqliteConnection(_db.ConnectionString);
        connection.Open();
        using SqliteTransaction tx = connection.BeginTransaction();
        var ex = await Assert.ThrowsAsync<NotSupportedException>(async () => await bus.PublishAsync(User(1), new PublishOptions { Transaction = tx }));
        Assert.Contains("UseSqlite", ex.Message);
    }

    [Fact]
    public async Task AHandlerCancelledByShutdown_IsNotAcknowledged_AndRunsAgainAfterARestart()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (HeraldTestHarness first = await StartAsync(
            h =>
            {
                h.Host.ShutdownTimeout = TimeSpan.FromMilliseconds(100);
                h.AddHandler<Slow, UserCreated>(o => o.Name = "mail");
            },
            services: s => s.AddSingleton(started)))
        {
            await first.Bus.PublishAsync(User(5));
            await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        var seen = new Seen();
        await using HeraldTestHarness second = await StartAsync(h => h.AddHandler<Email, UserCreated>(o => o.Name = "mail"), seen);
        await second.Consumed<UserCreated>(e => e.Event.Id == 5);
    }

    [Fact]
    public async Task ConcurrentPublishers_ShareCommits_AndEveryPublishIsStored()
    {
        var options = new EventBusOptions().UseSqlite(_db.Options(SqliteSynchronous.Full));
        await using var bus = new EventBus(options);
        await Parallel.ForAsync(0, 8, async (p, ct) =>
        {
            for (int i = 0; i < 100; i++)
            {
                await bus.PublishAsync(User((p * 1000) + i), ct);
            }
        });

        Assert.Equal(800L, _db.Scalar("SELECT count(*) FROM herald_messages"));
        Assert.Equal(800L, _db.Scalar("SELECT count(DISTINCT event_id) FROM herald_messages"));
    }

    [Fact]
    public async Task Retention_DeletesWhatEveryGroupHasSettled_AndOldInboxEntries_NothingElse()
    {
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<Email, UserCreated>(), seen);
        await using (Subscription<UserCreated> late = harness.Bus.Subscribe<UserCreated>(new SubscriptionOptions { Group = "late" }))
        {
            // "late" is registered in the file, then goes away without reading: it holds the log back.
        }

        for (int i = 0; i < 30; i++)
        {
            await harness.Bus.PublishAsync(User(i));
        }

        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 30);
        _db.Scalar("INSERT INTO herald_consumers (name) VALUES ('old')");
        _db.Scalar("INSERT INTO herald_inbox_records (event_id, consumer, time) VALUES ('x', (SELECT id FROM herald_consumers WHERE name = 'old'), 946684800000)"); // 2000-01-01
        var transport = (SqliteTransport)harness.Bus.Transport;

        await transport.RunRetentionAsync();
        Assert.Equal(30L, _db.Scalar("SELECT count(*) FROM herald_messages")); // "late" has read none of them
        Assert.Equal(0L, _db.Scalar("SELECT count(*) FROM herald_inbox_records i JOIN herald_consumers c ON c.id = i.consumer WHERE c.name = 'old'"));
        Assert.Equal(30L, _db.Scalar("SELECT count(*) FROM herald_inbox_records i JOIN herald_consumers c ON c.id = i.consumer WHERE c.name = 'Email'"));

        _db.Scalar("UPDATE herald_groups SET checkpoint = (SELECT max(position) - 10 FROM herald_messages) WHERE name = 'late'");
        await WaitForCheckpointsAsync();
        await transport.RunRetentionAsync();
        Assert.Equal(10L, _db.Scalar("SELECT count(*) FROM herald_messages")); // only what "late" has not read yet

        // "late" is gone for good: listed with its lag, removed, and the log no longer waits for it.
        SqliteConsumerGroups groups = harness.Services.GetRequiredService<SqliteConsumerGroups>();
        ConsumerGroupInfo lateInfo = (await groups.ListAsync()).Single(g => g.Name == "late");
        Assert.Equal(10, lateInfo.Lag);
        Assert.Null(lateInfo.Owner);
        Assert.Equal(0, (await groups.ListAsync()).Single(g => g.Name == nameof(Email)).Lag);
        await Assert.ThrowsAsync<InvalidOperationException>(() => groups.RemoveAsync(nameof(Email))); // read right now
        Assert.True(await groups.RemoveAsync("late"));
        Assert.False(await groups.RemoveAsync("late"));
        await transport.RunRetentionAsync();
        Assert.Equal(0L, _db.Scalar("SELECT count(*) FROM herald_messages"));
    }

    private async Task WaitForCheckpointsAsync()
    {
        // The readers store their checkpoints every 100 ms; wait (bounded) until every group but "late" is at the end.
        DateTimeOffset deadline = TimeProvider.System.GetUtcNow().AddSeconds(20);
        while ((long)_db.Scalar("SELECT count(*) FROM herald_groups WHERE name <> 'late' AND checkpoint < (SELECT max(position) FROM herald_messages)")! > 0)
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "the groups did not store their checkpoints");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task PullSubscription_OnSqlite_ReadsTypedEvents()
    {
        await using var bus = new EventBus(new EventBusOptions().UseSqlite(_db.Options()));
        await using Subscription<UserCreated> subscription = bus.Subscribe<UserCreated>(new SubscriptionOptions { Name = "pull" });
        await bus.PublishAsync(User(1));
        await bus.PublishAsync(User(2));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var ids = new List<long>();
        await foreach (EventContext<UserCreated> e in subscription.ReadAllAsync(cts.Token))
        {
            ids.Add(e.Event.Id);
            if (ids.Count == 2)
            {
                break;
            }
        }

        Assert.Equal([1L, 2], ids);
    }

    private static void Run(SqliteConnection connection, SqliteTransaction? tx, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
