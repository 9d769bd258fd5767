namespace Herald.Sqlite;

/// <summary>Options of Herald's SQLite database.</summary>
public sealed class SqliteOptions
{
    /// <summary>The connection string, e.g. <c>Data Source=herald.db</c>. Required.</summary>
    public string ConnectionString { get; set; } = "Data Source=herald.db";

    /// <summary>What a commit survives; see <see cref="SqliteSynchronous"/>. Default <see cref="SqliteSynchronous.Full"/>.</summary>
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Full;

    /// <summary>How long a write waits for another process holding the write lock before failing. Default 10 s.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an idle consumer looks for events committed by another process. Default 50 ms.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How long a process holds a consumer group's lease without renewing it; another process takes the group over
    /// after that (at once when the holder is a process on this machine that no longer runs). Default 10 s.
    /// </summary>
    public TimeSpan GroupLease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often settled messages (below every consumer group's checkpoint) and old inbox entries are deleted. Default
    /// 1 minute.
    /// </summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long the inbox remembers a handled event id (a redelivery later than this runs the handler again). Default
    /// 7 days; <see cref="Timeout.InfiniteTimeSpan"/> keeps ids forever.
    /// </summary>
    public TimeSpan InboxRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The most events one group commit writes. Default 512.</summary>
    public int MaxBatch { get; set; } = 512;

    /// <summary>
    /// Whether Herald may add its tables to a database that already holds another application's tables (to share one
    /// file with the application, e.g. for the outbox). Default false: such a file is refused with an error naming its
    /// tables, so a wrong path never writes into someone else's database.
    /// </summary>
    public bool AdoptExistingDatabase { get; set; }

    /// <summary>The serializer of event payloads. Default System.Text.Json.</summary>
    public IEventSerializer Serializer { get; set; } = SystemTextJsonEventSerializer.CreateDefault();

    /// <summary>The clock. Default the system clock.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException("SqliteOptions.ConnectionString is required, e.g. \"Data Source=herald.db\".", nameof(ConnectionString));
        }

        if (BusyTimeout < TimeSpan.Zero || PollInterval <= TimeSpan.Zero || GroupLease < TimeSpan.FromMilliseconds(100))
        {
            throw new ArgumentException("SqliteOptions: BusyTimeout must be >= 0, PollInterval > 0 and GroupLease >= 100 ms.");
        }

        if (RetentionInterval <= TimeSpan.Zero || (InboxRetention <= TimeSpan.Zero && InboxRetention != Timeout.InfiniteTimeSpan))
        {
            throw new ArgumentException("SqliteOptions: RetentionInterval must be positive, and InboxRetention positive or Timeout.InfiniteTimeSpan.");
        }

        if (MaxBatch < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatch), MaxBatch, "SqliteOptions.MaxBatch must be at least 1.");
        }

        ArgumentNullException.ThrowIfNull(Serializer);
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
