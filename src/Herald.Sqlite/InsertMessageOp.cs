using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>A published envelope (or a redrive aimed at one group) to append to the message log.</summary>
internal sealed class InsertMessageOp(string eventId, string topic, string? subject, string? target, byte[] envelope) : WriteOp
{
    public string EventId => eventId;

    public string Topic => topic;

    public string? Subject => subject;

    public string? Target => target;

    public byte[] Envelope => envelope;

    public override void Execute(SqliteWriter writer, SqliteTransaction tx) => writer.InsertMessage(tx, eventId, topic, subject, target, envelope);
}
