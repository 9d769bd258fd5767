using Herald.Sqlite;
using Microsoft.Data.Sqlite;

namespace Herald.CrashChild;

/// <summary>
/// Applies the event's effect once per group: the inbox record and the effect commit in one transaction, and each
/// run of the handler that commits is recorded as a delivery (a duplicate when the inbox had the id already).
/// </summary>
public abstract class Effect(SqliteOptions options, SqliteInboxStore inbox, string group) : IEventHandler<Counted>
{
    public Task HandleAsync(EventContext<Counted> context, CancellationToken cancellationToken)
    {
        using var connection = new SqliteConnection(options.ConnectionString);
        connection.Open();
        using (SqliteCommand busy = connection.CreateCommand())
        {
            busy.CommandText = "PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL;";
            busy.ExecuteNonQuery();
        }

        using SqliteTransaction tx = connection.BeginTransaction();
        bool first = inbox.TryRecord(tx, group, context.Envelope.Id);
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = first
            ? """
              INSERT INTO effects (grp, number, applied) VALUES ($g, $n, 1) ON CONFLICT (grp, number) DO UPDATE SET applied = applied + 1;
              INSERT INTO deliveries (grp, number, duplicate) VALUES ($g, $n, 0);
              """
            : "INSERT INTO deliveries (grp, number, duplicate) VALUES ($g, $n, 1);";
        command.Parameters.AddWithValue("$g", group);
        command.Parameters.AddWithValue("$n", context.Event.Number);
        command.ExecuteNonQuery();
        tx.Commit();
        return Task.CompletedTask;
    }
}

public sealed class AlphaEffect(SqliteOptions options, SqliteInboxStore inbox) : Effect(options, inbox, "alpha");

public sealed class BetaEffect(SqliteOptions options, SqliteInboxStore inbox) : Effect(options, inbox, "beta");
