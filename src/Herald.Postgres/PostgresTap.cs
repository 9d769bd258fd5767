using Npgsql;
using NpgsqlTypes;

namespace Herald.Postgres;

/// <summary>
/// What the <c>herald</c> command watches with: a group of its own (<c>$tap.</c> and a unique id) that takes every
/// topic while it lives, so the events published meanwhile get a row for it, which it reads and deletes. Handled rows
/// are deleted at once, so there is no log to read afterwards; a tap sees what is published after it opened, as a
/// private queue bound to <c>#</c> does on RabbitMQ. It has an expiry, renewed as it reads: a publish stops routing to
/// a tap that has expired (its command ended, died or hangs), and every process's listener deletes the rows of expired
/// taps once a minute. A tap is never counted as routing an event (an unrouted publish is still reported).
/// </summary>
internal sealed class PostgresTap : IAsyncDisposable
{
    /// <summary>The start of every tap's group name (no application group may use it).</summary>
    public const string Prefix = "$tap.";

    /// <summary>How long a tap lives without a renewal.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    /// <summary>How often a process's listener deletes expired taps.</summary>
    public static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(1);

    private readonly PostgresDatabase _database;
    private long _renewed;
    private bool _disposed;

    private PostgresTap(PostgresDatabase database)
    {
        _database = database;
        Name = Prefix + Guid.NewGuid().ToString("N");
    }

    /// <summary>The tap's group name.</summary>
    public string Name { get; }

    /// <summary>Rows this tap has read and deleted (the database's delete count includes them).</summary>
    public long Taken { get; private set; }

    private string S => _database.Schema;

    /// <summary>Whether a group name is a tap's.</summary>
    public static bool IsTap(string group) => group.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Registers a new tap; it takes the events published from now on.</summary>
    public static async Task<PostgresTap> OpenAsync(PostgresDatabase database, CancellationToken cancellationToken)
    {
        var tap = new PostgresTap(database);
        NpgsqlConnection connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await PruneAsync(connection, database.Schema, cancellationToken).ConfigureAwait(false);
            await tap.RegisterAsync(connection, cancellationToken).ConfigureAwait(false);
        }

        return tap;
    }

    /// <summary>
    /// Deletes the rows of expired taps. Their group rows stay a day longer (never routed to, never shown), so the
    /// rows of a publish that routed to a tap just before it expired and committed after a prune are deleted by the
    /// next one, not left behind for a group that no longer exists.
    /// </summary>
    public static async Task PruneAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(
            $"""
            DELETE FROM {schema}.messages m USING {schema}.groups g WHERE g.expires < now() AND m.group_name = g.name;
            DELETE FROM {schema}.groups WHERE expires < now() - interval '1 day';
            """,
            connection);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The tap's rows in publish order, at most <paramref name="max"/>, deleted as they are read (envelopes as stored:
    /// structured CloudEvents). Renews the tap when a quarter of its lease has passed, or registers it again when it
    /// had expired and was pruned (what was published in between is not seen).
    /// </summary>
    public async Task<IReadOnlyList<(long Seq, string Topic, byte[] Envelope)>> TakeAsync(int max, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var taken = new List<(long Seq, string Topic, byte[] Envelope)>();
        NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            if (_database.Options.TimeProvider.GetElapsedTime(_renewed) >= Lease / 4)
            {
                await RegisterAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            var command = new NpgsqlCommand(
                $"""
                DELETE FROM {S}.messages WHERE group_name = $1 AND seq IN (SELECT seq FROM {S}.messages WHERE group_name = $1 ORDER BY seq LIMIT $2)
                RETURNING seq, topic, envelope
                """,
                connection);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Name });
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = max });
                NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        taken.Add((reader.GetInt64(0), reader.GetString(1), await reader.GetFieldValueAsync<byte[]>(2, cancellationToken).ConfigureAwait(false)));
                    }
                }
            }
        }

        Taken += taken.Count;
        taken.Sort((a, b) => a.Seq.CompareTo(b.Seq)); // RETURNING has no order
        return taken;
    }

    /// <summary>Ends the tap (expired now) and deletes its rows (bounded: a database that does not answer leaves it to expire).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            NpgsqlConnection connection = await _database.DataSource.OpenConnectionAsync(bounded.Token).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var command = new NpgsqlCommand($"UPDATE {S}.groups SET expires = now() - interval '1 second' WHERE name = @name; DELETE FROM {S}.messages WHERE group_name = @name", connection);
                await using (command.ConfigureAwait(false))
                {
                    command.Parameters.Add(new NpgsqlParameter<string>("name", Name));
                    await command.ExecuteNonQueryAsync(bounded.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or System.Net.Sockets.SocketException)
        {
            // the database away: the tap expires and the next prune removes it
        }
    }

    /// <summary>Registers the tap, or renews its expiry: a pattern of <c>#</c>, unordered.</summary>
    private async Task RegisterAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(
            $"""
            INSERT INTO {S}.groups (name, pattern, regex, ordered, expires) VALUES ($1, '#', $2, false, now() + $3)
            ON CONFLICT (name) DO UPDATE SET expires = excluded.expires
            """,
            connection);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Name });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PostgresPatterns.Regex(TopicPattern.Parse("#")) });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = Lease, NpgsqlDbType = NpgsqlDbType.Interval });
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        _renewed = _database.Options.TimeProvider.GetTimestamp();
    }
}
