using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>
/// The versioned schema of a Herald database. The file is marked with <c>PRAGMA application_id</c> ('HRLD'), and
/// <c>PRAGMA user_version</c> holds the schema version; each migration runs in its own transaction and moves the
/// version by one, so a file of any earlier version is brought forward step by step.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>'HRLD' in ASCII.</summary>
    public const int ApplicationId = 0x48524C44;

    /// <summary>Migration i takes a file from version i to i + 1.</summary>
    internal static readonly string[] Migrations =
    [
        // 1: the event store
        """
        CREATE TABLE herald_streams (
            stream_id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            max_count INTEGER,
            truncate_before INTEGER,
            deleted INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
        CREATE TABLE herald_events (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            stream_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            event_id TEXT NOT NULL,
            type TEXT NOT NULL,
            envelope BLOB NOT NULL,
            UNIQUE (stream_id, version));
        CREATE TABLE herald_snapshots (
            stream_id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            state BLOB NOT NULL,
            time TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE herald_checkpoints (
            name TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            time TEXT NOT NULL) WITHOUT ROWID;
        """,

        // 2: the durable bus: the message log, consumer groups, delayed events, dead letters, the inbox
        """
        CREATE TABLE herald_messages (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            subject TEXT,
            target TEXT,
            envelope BLOB NOT NULL);
        CREATE TABLE herald_groups (
            name TEXT PRIMARY KEY,
            checkpoint INTEGER NOT NULL,
            owner TEXT,
            lease_until INTEGER,
            created TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE herald_scheduled (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            due INTEGER NOT NULL,
            event_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            subject TEXT,
            envelope BLOB NOT NULL);
        CREATE INDEX herald_scheduled_due ON herald_scheduled (due);
        CREATE TABLE herald_dead_letters (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            consumer TEXT NOT NULL,
            topic TEXT NOT NULL,
            reason TEXT NOT NULL,
            exception_type TEXT,
            exception_message TEXT,
            attempts INTEGER NOT NULL,
            time TEXT NOT NULL,
            envelope BLOB NOT NULL);
        CREATE TABLE herald_inbox (
            consumer TEXT NOT NULL,
            event_id TEXT NOT NULL,
            time TEXT NOT NULL,
            PRIMARY KEY (consumer, event_id)) WITHOUT ROWID;
        """,

        // 3: a stored retry is a delayed redelivery aimed at the group whose handler failed
        """
        ALTER TABLE herald_scheduled ADD COLUMN target TEXT;
        """,

        // 4: retention deletes inbox entries by age
        """
        CREATE INDEX herald_inbox_time ON herald_inbox (time);
        """,

        // 5: who consumes what: each group's members (handler or subscription name, pattern, event type), so the
        // `herald` command and the dashboard can draw the topology from the file alone
        """
        CREATE TABLE herald_members (
            grp TEXT NOT NULL,
            name TEXT NOT NULL,
            pattern TEXT NOT NULL,
            event_type TEXT,
            owner TEXT,
            seen TEXT NOT NULL,
            PRIMARY KEY (grp, name)) WITHOUT ROWID;
        """,

        // 6: a snapshot records the version of its state type (1 for those saved before), so a newer state type reads
        // it through its upcasters
        """
        ALTER TABLE herald_snapshots ADD COLUMN state_version INTEGER NOT NULL DEFAULT 1;
        """,

        // 7: a smaller inbox record, a third of the writer's cost before: the consumer as a number (its name once, in
        // herald_consumers, whose rows are never deleted), the time as Unix milliseconds, and the event id first in the
        // key, so the records of time-ordered ids (Herald's UUIDv7) append at the end of both b-trees instead of
        // landing in one region per consumer. A table of a new name: a process of an older build still running on the
        // file fails on the missing herald_inbox, loudly, instead of writing text into the numbered columns and
        // matching nothing (and its retention, comparing text times, deleting every newer record)
        """
        CREATE TABLE herald_consumers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE);
        INSERT INTO herald_consumers (name) SELECT DISTINCT consumer FROM herald_inbox ORDER BY consumer;
        CREATE TABLE herald_inbox_records (
            event_id TEXT NOT NULL,
            consumer INTEGER NOT NULL,
            time INTEGER NOT NULL,
            PRIMARY KEY (event_id, consumer)) WITHOUT ROWID;
        INSERT INTO herald_inbox_records (event_id, consumer, time)
            SELECT i.event_id, c.id, coalesce(CAST(unixepoch(i.time, 'subsec') * 1000 AS INTEGER), 0)
            FROM herald_inbox i JOIN herald_consumers c ON c.name = i.consumer;
        DROP TABLE herald_inbox;
        CREATE INDEX herald_inbox_records_time ON herald_inbox_records (time);
        """,
    ];

    /// <summary>The schema version this build writes and reads.</summary>
    public static int CurrentVersion => Migrations.Length;

    /// <summary>Checks that the file is Herald's (or empty) and not newer than <paramref name="targetVersion"/>; returns its version.</summary>
    /// <exception cref="HeraldDatabaseException">The file is not a Herald database, or a newer Herald wrote it.</exception>
    public static int Check(SqliteConnection connection, string file, int targetVersion, bool adopt)
    {
        int applicationId;
        int version;
        try
        {
            applicationId = Scalar(connection, "PRAGMA application_id");
            version = Scalar(connection, "PRAGMA user_version");
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 26 /* SQLITE_NOTADB */ or 11 /* SQLITE_CORRUPT */)
        {
            throw new HeraldDatabaseException($"'{file}' is not a SQLite database (SQLite says: {ex.Message}). Herald will not overwrite it; point Herald at another file.", ex);
        }

        if (applicationId != ApplicationId && !(adopt && version == 0))
        {
            using var tables = connection.CreateCommand();
            tables.CommandText = "SELECT group_concat(name, ', ') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name LIMIT 5)";
            if (tables.ExecuteScalar() is string names && names.Length > 0)
            {
                throw new HeraldDatabaseException(
                    $"'{file}' is not a Herald database: it holds other tables ({names}) and its application_id is {applicationId}, not Herald's {ApplicationId}. "
                    + "Herald will not write into another application's database: point Herald at its own file, or set SqliteOptions.AdoptExistingDatabase to share this one.");
            }
        }

        if (version > targetVersion)
        {
            throw new HeraldDatabaseException(
                $"'{file}' has Herald schema version {version}, newer than this Herald reads ({targetVersion}): a newer Herald wrote it. "
                + "Upgrade Herald to use it; this one will not change it.");
        }

        return version;
    }

    /// <summary>Brings a checked file from <paramref name="version"/> to <paramref name="targetVersion"/>, one transaction per step.</summary>
    public static void Migrate(SqliteConnection connection, int version, int targetVersion)
    {
        for (int v = version; v < targetVersion; v++)
        {
            using SqliteTransaction tx = connection.BeginTransaction();
            // Another process may have migrated while we waited for the write lock: read the version again inside it.
            int current = Scalar(connection, "PRAGMA user_version", tx);
            if (current > v)
            {
                tx.Commit();
                v = current - 1;
                continue;
            }

            using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = Migrations[v] + $"\nPRAGMA application_id = {ApplicationId};\nPRAGMA user_version = {v + 1};";
            command.ExecuteNonQuery();
            tx.Commit();
        }
    }

    private static int Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
