using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>Dead letters in the SQLite file: they survive restarts and can be listed and redriven from any process.</summary>
public sealed class SqliteDeadLetterStore : IDeadLetterStore
{
    private readonly SqliteDatabase _database;
    private readonly EnvelopeCodec _codec;

    /// <summary>Opens the dead-letter store in the database <paramref name="options"/> names.</summary>
    public SqliteDeadLetterStore(SqliteOptions options)
        : this(new SqliteDatabase(options))
    {
    }

    internal SqliteDeadLetterStore(SqliteDatabase database)
    {
        _database = database;
        _codec = new EnvelopeCodec(database.Options.Serializer);
    }

    /// <inheritdoc />
    public async ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        byte[] envelope = _codec.Encode(deadLetter.Envelope);
        await _database.WriteGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using SqliteConnection connection = _database.Open();
            using SqliteTransaction tx = connection.BeginTransaction();
            Insert(
                tx,
                deadLetter.Id,
                deadLetter.Consumer,
                deadLetter.Envelope.Type,
                deadLetter.Reason,
                deadLetter.ExceptionType,
                deadLetter.ExceptionMessage,
                deadLetter.Attempts,
                deadLetter.Time.ToString("O", CultureInfo.InvariantCulture),
                envelope);
            tx.Commit();
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: the id is taken
        {
            throw new InvalidOperationException($"A dead letter with id '{deadLetter.Id}' is already stored.", ex);
        }
        finally
        {
            _database.WriteGate.Release();
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<DeadLetter>> ListAsync(TopicPattern? topic, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        var list = new List<DeadLetter>();
        using SqliteConnection connection = _database.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM herald_dead_letters ORDER BY seq";
        using SqliteDataReader reader = command.ExecuteReader();
        while (list.Count < max && reader.Read())
        {
            if (topic is null || topic.IsMatch(reader.GetString(2)))
            {
                list.Add(Read(reader));
            }
        }

        return ValueTask.FromResult<IReadOnlyList<DeadLetter>>(list);
    }

    /// <summary>
    /// The dead letters of one event (by its event id), found by SQLite itself: only the matching rows reach this process,
    /// whatever the number and size of the others.
    /// </summary>
    internal IReadOnlyList<DeadLetter> OfEvent(string eventId)
    {
        var list = new List<DeadLetter>();
        using SqliteConnection connection = _database.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM herald_dead_letters WHERE json_valid(CAST(envelope AS TEXT)) AND json_extract(CAST(envelope AS TEXT), '$.id') = $e ORDER BY seq";
        command.Parameters.AddWithValue("$e", eventId);
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(Read(reader));
        }

        return list;
    }

    /// <inheritdoc />
    public ValueTask<DeadLetter?> GetAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        using SqliteConnection connection = _database.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM herald_dead_letters WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using SqliteDataReader reader = command.ExecuteReader();
        return ValueTask.FromResult(reader.Read() ? Read(reader) : null);
    }

    /// <inheritdoc />
    public ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        return ValueTask.FromResult((long)_database.Scalar("SELECT count(*) FROM herald_dead_letters")!);
    }

    /// <inheritdoc />
    public async ValueTask<bool> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        await _database.WriteGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using SqliteConnection connection = _database.Open();
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "DELETE FROM herald_dead_letters WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            return command.ExecuteNonQuery() == 1;
        }
        finally
        {
            _database.WriteGate.Release();
        }
    }

    internal static void Insert(
        SqliteTransaction tx, string id, string consumer, string topic, string reason, string? exceptionType, string? exceptionMessage, int attempts, string time, byte[] envelope) =>
        SqliteDatabase.Execute(
            tx,
            """
            INSERT INTO herald_dead_letters (id, consumer, topic, reason, exception_type, exception_message, attempts, time, envelope)
            VALUES ($id, $c, $t, $r, $et, $em, $a, $time, $e)
            """,
            ("$id", id),
            ("$c", consumer),
            ("$t", topic),
            ("$r", reason),
            ("$et", exceptionType),
            ("$em", exceptionMessage),
            ("$a", attempts),
            ("$time", time),
            ("$e", envelope));

    private const string Columns = "id, consumer, topic, reason, exception_type, exception_message, attempts, time, envelope";

    private static DeadLetter Read(SqliteDataReader reader)
    {
        byte[] stored = (byte[])reader.GetValue(8);
        Envelope envelope;
        try
        {
            envelope = EnvelopeCodec.Decode(stored);
        }
        catch (EventDecodingException)
        {
            // The envelope itself is unreadable (that may be why it is here): keep its bytes as the payload.
            envelope = new Envelope(reader.GetString(2), null, DateTimeOffset.UnixEpoch) { EncodedData = stored, DataContentType = "application/octet-stream" };
        }

        return new DeadLetter(
            reader.GetString(0),
            envelope,
            reader.GetString(1),
            reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.GetInt32(6),
            DateTimeOffset.Parse(reader.GetString(7), CultureInfo.InvariantCulture));
    }
}
