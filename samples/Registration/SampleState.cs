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

    /// <summary>
    /// What is not settled yet: the sample's consumer groups behind the end of the log, plus their stored retries
    /// that are not due yet (a retry comes back into the log after its delay).
    /// </summary>
    public static long GroupsBehind(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT count(*) FROM herald_groups
                    WHERE name IN ('SendWelcomeEmail', 'AwardPoints', 'RiskCheck', 'AuditTrail')
                      AND checkpoint < (SELECT coalesce(max(position), 0) FROM herald_messages))
                 + (SELECT count(*) FROM herald_scheduled
                    WHERE target IN ('SendWelcomeEmail', 'AwardPoints', 'RiskCheck', 'AuditTrail'))
            """;
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>
    /// Events in the log that a handler neither handled (its inbox has the id) nor dead-lettered: 0 when nothing was
    /// lost, counted over every run on this file.
    /// </summary>
    public static long Unaccounted(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT count(*) FROM herald_messages m
            CROSS JOIN (SELECT 'SendWelcomeEmail' AS name UNION ALL SELECT 'AwardPoints' UNION ALL SELECT 'RiskCheck' UNION ALL SELECT 'AuditTrail') g
            WHERE m.topic = 'user.created' AND m.target IS NULL
              AND NOT EXISTS (SELECT 1 FROM herald_inbox_records i JOIN herald_consumers c ON c.id = i.consumer WHERE c.name = g.name AND i.event_id = m.event_id)
              AND NOT EXISTS (SELECT 1 FROM herald_dead_letters d WHERE d.consumer = g.name AND json_extract(CAST(d.envelope AS TEXT), '$.id') = m.event_id)
            """;
        return (long)command.ExecuteScalar()!;
    }
}
