using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>
/// An inbox record (a consumer handled an event id) for the next group commit. Independent of every other write
/// (an insert that does nothing when the record exists), so the writer runs a commit's records together, in multi-row
/// statements, after its other writes: they neither split the runs of published messages nor pay a statement each.
/// </summary>
/// <remarks>
/// Not awaited: the writer calls <paramref name="committed"/> inline after the commit (true when it succeeded), with no
/// task, continuation or thread-pool hop per record; it must be quick and must not throw.
/// </remarks>
internal sealed class InsertInboxOp(string consumer, string eventId, long time, Action<InsertInboxOp, bool> committed) : WriteOp(awaited: false)
{
    public string Consumer => consumer;

    public string EventId => eventId;

    /// <summary>When the record was made, in Unix milliseconds.</summary>
    public long Time => time;

    public override void Execute(SqliteWriter writer, SqliteTransaction tx) => writer.InsertInbox(tx, [this], 0, 1);

    public override void Complete(Exception? failure) => committed(this, failure is null);
}
