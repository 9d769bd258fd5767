using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>
/// The consumer groups registered in a Herald SQLite file: their checkpoints, lag and lease holders, and removal of
/// a group that is gone for good (a registered group holds the log back until it reads on, see retention).
/// </summary>
public sealed class SqliteConsumerGroups
{
    private readonly SqliteDatabase _database;

    /// <summary>Opens the groups of the database <paramref name="options"/> names.</summary>
    public SqliteConsumerGroups(SqliteOptions options)
        : this(new SqliteDatabase(options))
    {
    }

    internal SqliteConsumerGroups(SqliteDatabase database) => _database = database;

    /// <summary>Every registered group, by name.</summary>
    public Task<IReadOnlyList<ConsumerGroupInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using SqliteConnection connection = _database.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT g.name, g.checkpoint, (SELECT count(*) FROM herald_messages m WHERE m.position > g.checkpoint), g.owner, g.lease_until
            FROM herald_groups g ORDER BY g.name
            """;
        var groups = new List<ConsumerGroupInfo>();
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            groups.Add(new ConsumerGroupInfo(
                reader.GetString(0),
                reader.GetInt64(1),
                reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
        }

        return Task.FromResult<IReadOnlyList<ConsumerGroupInfo>>(groups);
    }

    /// <summary>
    /// Removes a group from the file, so it no longer holds the log back. A process that subscribes with the group
    /// again registers it anew, from the end of the log.
    /// </summary>
    /// <returns>False when no such group is registered.</returns>
    /// <exception cref="InvalidOperationException">A process holds the group's lease now: stop it first.</exception>
    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        long now = _database.Options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await _database.WriteGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using SqliteConnection connection = _database.Open();
            using SqliteTransaction tx = connection.BeginTransaction();
            if (_database.Scalar(tx, "SELECT owner FROM herald_groups WHERE name = $g AND owner IS NOT NULL AND lease_until > $n", ("$g", name), ("$n", now)) is string owner)
            {
                throw new InvalidOperationException($"Consumer group '{name}' is being read by {owner} (its lease is live); stop that process before removing the group.");
            }

            using SqliteCommand delete = connection.CreateCommand();
            delete.Transaction = tx;
            delete.CommandText = "DELETE FROM herald_groups WHERE name = $g";
            delete.Parameters.AddWithValue("$g", name);
            bool removed = delete.ExecuteNonQuery() == 1;
            SqliteDatabase.Execute(tx, "DELETE FROM herald_members WHERE grp = $g", ("$g", name));
            tx.Commit();
            return removed;
        }
        finally
        {
            _database.WriteGate.Release();
        }
    }
}
