using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>One write for the <see cref="SqliteWriter"/>'s next group commit; <see cref="Done"/> completes after the commit.</summary>
internal abstract class WriteOp
{
    /// <summary>A write whose completion is awaited (<see cref="Done"/>); <paramref name="awaited"/> false for one that overrides <see cref="Complete"/> instead.</summary>
    protected WriteOp(bool awaited = true) =>
        Done = awaited ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) : null;

    /// <summary>Completes after the commit that holds the write (null for a write that is not awaited).</summary>
    public TaskCompletionSource? Done { get; }

    /// <summary>Called by the writer after the commit that held the write, with the commit's failure if it failed; must not throw.</summary>
    public virtual void Complete(Exception? failure)
    {
        if (failure is null)
        {
            Done?.TrySetResult();
        }
        else
        {
            Done?.TrySetException(failure);
        }
    }

    /// <summary>Runs the write inside the commit's transaction. An exception fails the whole commit (every op in it).</summary>
    public abstract void Execute(SqliteWriter writer, SqliteTransaction tx);

    /// <summary>An op from a delegate.</summary>
    public static WriteOp Of(Action<SqliteTransaction> write) => new DelegateOp(write);

    private sealed class DelegateOp(Action<SqliteTransaction> write) : WriteOp
    {
        public override void Execute(SqliteWriter writer, SqliteTransaction tx) => write(tx);
    }
}
