namespace Herald.Sqlite;

/// <summary>
/// SQLite's <c>synchronous</c> setting in WAL mode: what a commit (and so a completed publish or append) survives.
/// </summary>
public enum SqliteSynchronous
{
    /// <summary>
    /// Every commit is flushed to disk (fsync of the WAL) before it completes: a committed event survives a crash of
    /// the process and of the machine (power loss). The default.
    /// </summary>
    Full,

    /// <summary>
    /// Commits are written to the WAL but flushed only at checkpoints: a committed event survives a crash of the
    /// process, but the last commits may be lost if the machine loses power. About four times the single-commit rate.
    /// </summary>
    Normal,
}
