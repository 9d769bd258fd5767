using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>One write for the <see cref="SqliteWriter"/>'s next group commit; <see cref="Done"/> completes after the commit.</summary>
internal abstract class WriteOp
{
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Runs the write inside the commit's transaction. An exception fails the whole commit (every op in it).</summary>
    public abstract void Execute(SqliteWriter writer, SqliteTransaction tx);

    /// <summary>An op from a delegate.</summary>
    public static WriteOp Of(Action<SqliteTransaction> write) => new DelegateOp(write);

    private sealed class DelegateOp(Action<SqliteTransaction> write) : WriteOp
    {
        public override void Execute(SqliteWriter writer, SqliteTransaction tx) => write(tx);
    }
}
