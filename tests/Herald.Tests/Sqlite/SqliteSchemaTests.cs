using Herald.Sqlite;
using Herald.Tests.Support;

namespace Herald.Tests.Sqlite;

public sealed class SqliteSchemaTests
{
    [Fact]
    public void Open_NewFile_CreatesTheCurrentSchema_InWal()
    {
        using var db = new TempDatabase();
        using (new SqliteEventStore(db.Options()))
        {
        }

        Assert.Equal((long)SqliteSchema.CurrentVersion, db.Scalar("PRAGMA user_version"));
        Assert.Equal((long)SqliteSchema.ApplicationId, db.Scalar("PRAGMA application_id"));
        Assert.Equal("wal", db.Scalar("PRAGMA journal_mode"));
        Assert.Equal("ok", db.Scalar("PRAGMA integrity_check"));
    }

    public static TheoryData<int> EarlierVersions() => [.. Enumerable.Range(1, SqliteSchema.CurrentVersion - 1)];

    [Theory]
    [MemberData(nameof(EarlierVersions))]
    public async Task Open_FileOfAnEarlierVersion_IsMigratedStepByStep_KeepingItsData(int earlier)
    {
        using var db = new TempDatabase();
        // A file written by the Herald of schema version `earlier`, holding an event.
        var old = new SqliteDatabase(db.Options(), schemaVersion: earlier);
        using (old.Open())
        {
        }

        using (var oldStore = new SqliteEventStore(old, ownsDatabase: true))
        {
            await oldStore.AppendAsync("order-1", [new Envelope("order.paid", new OrderPaid(1, 1m), DateTimeOffset.UnixEpoch)], ExpectedVersion.NoStream);
        }

        Assert.Equal((long)earlier, db.Scalar("PRAGMA user_version"));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        using var store = new SqliteEventStore(db.Options());
        Assert.Equal((long)SqliteSchema.CurrentVersion, db.Scalar("PRAGMA user_version"));
        Assert.Equal(1, (await store.GetStreamAsync("order-1")).Version);
        Assert.Equal(0L, db.Scalar("SELECT count(*) FROM herald_messages")); // the newest tables exist
    }

    [Fact]
    public async Task Open_AVersion6File_KeepsItsInboxRecords_InTheNumberedForm()
    {
        using var db = new TempDatabase();
        var old = new SqliteDatabase(db.Options(), schemaVersion: 6);
        using (old.Open())
        {
        }

        await old.DisposeAsync();
        db.Scalar("""
            INSERT INTO herald_inbox (consumer, event_id, time) VALUES
                ('Email', 'e1', '2026-12-03T15:31:46.1234567+00:00'),
                ('Risk', 'e1', '2026-12-03T17:31:46.1234567+02:00'),
                ('Email', 'e2', 'not a time')
            """);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        await using var inbox = new SqliteInboxStore(db.Options());
        Assert.False(await inbox.TryBeginAsync("Email", "e1", CancellationToken.None)); // recorded before the upgrade
        Assert.False(await inbox.TryBeginAsync("Risk", "e1", CancellationToken.None));
        Assert.False(await inbox.TryBeginAsync("Email", "e2", CancellationToken.None));
        Assert.True(await inbox.TryBeginAsync("Risk", "e2", CancellationToken.None));

        Assert.Equal((long)SqliteSchema.CurrentVersion, db.Scalar("PRAGMA user_version"));
        Assert.Equal(2L, db.Scalar("SELECT count(*) FROM herald_consumers"));
        long expected = DateTimeOffset.Parse("2026-12-03T15:31:46.123Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
        Assert.Equal(2L, db.Scalar($"SELECT count(*) FROM herald_inbox_records WHERE time = {expected}")); // both offsets read as the same instant
        Assert.Equal(0L, db.Scalar("SELECT time FROM herald_inbox_records WHERE event_id = 'e2'")); // unreadable: oldest, so retention takes it first
        Assert.Equal(0L, db.Scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'herald_inbox'")); // gone: an older build fails loudly
        Assert.Equal("ok", db.Scalar("PRAGMA integrity_check"));
    }

    [Fact]
    public void Open_NewerSchema_IsRefused_AndTheFileIsLeftAlone()
    {
        using var db = new TempDatabase();
        using (new SqliteEventStore(db.Options()))
        {
        }

        db.Scalar($"PRAGMA user_version = {SqliteSchema.CurrentVersion + 5}");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        var ex = Assert.Throws<HeraldDatabaseException>(() => new SqliteEventStore(db.Options()));
        Assert.Contains($"schema version {SqliteSchema.CurrentVersion + 5}", ex.Message);
        Assert.Contains("newer", ex.Message);
        Assert.Equal((long)SqliteSchema.CurrentVersion + 5, db.Scalar("PRAGMA user_version"));
    }

    [Fact]
    public void Open_AnotherApplicationsDatabase_IsRefused_Untouched()
    {
        using var db = new TempDatabase();
        db.Scalar("CREATE TABLE customers (id INTEGER PRIMARY KEY)");

        var ex = Assert.Throws<HeraldDatabaseException>(() => new SqliteEventStore(db.Options()));
        Assert.Contains("not a Herald database", ex.Message);
        Assert.Contains("customers", ex.Message);
        Assert.Equal("delete", db.Scalar("PRAGMA journal_mode")); // not even switched to WAL
        Assert.Equal(0L, db.Scalar("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'herald%'"));
    }

    [Fact]
    public void Open_AFileThatIsNotSqlite_IsRefused_Untouched()
    {
        using var db = new TempDatabase();
        byte[] text = "this is a text file, not a database, and it is long enough to look like a header"u8.ToArray();
        File.WriteAllBytes(db.File, text);

        var ex = Assert.Throws<HeraldDatabaseException>(() => new SqliteEventStore(db.Options()));
        Assert.Contains("not a SQLite database", ex.Message);
        Assert.Equal(text, File.ReadAllBytes(db.File));
    }
}
