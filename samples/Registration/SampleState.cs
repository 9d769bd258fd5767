using Microsoft.Data.Sqlite;

namespace Registration;

/// <summary>The sample's own state in the Herald file: the next user id (written in the outbox transactions).</summary>
public static class SampleState
{
    /// <summary>The first id of this run: where the last run's committed batches stopped.</summary>
    public static long NextUserId(string connectionString)
    {
        // Herald creates its file (or checks and migrates it) the first time it opens it; the sample's table goes next to its tables.
        using (new Herald.Sqlite.SqliteEventStore(new Herald.Sqlite.SqliteOptions { ConnectionString = connectionString }))
        {
        }

        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS sample_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT INTO sample_state (name, value) VALUES ('next_user_id', 0) ON CONFLICT DO NOTHING;
            SELECT value FROM sample_state WHERE name = 'next_user_id';
            """;
        return (long)command.ExecuteScalar()!;
    }

    public static void SetNextUserId(SqliteTransaction transaction, long next)
    {
        using SqliteCommand command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE sample_state SET value = $v WHERE name = 'next_user_id'";
        command.Parameters.AddWithValue("$v", next);
        command.ExecuteNonQuery();
    }

    /// <summary>How many of the sample's consumer groups have not settled the whole log yet.</summary>
    public static long GroupsBehind(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT count(*) FROM herald_groups
            WHERE name IN ('SendWelcomeEmail', 'AwardPoints', 'RiskCheck', 'AuditTrail')
              AND checkpoint < (SELECT coalesce(max(position), 0) FROM herald_messages)
            """;
        return (long)command.ExecuteScalar()!;
    }
}
