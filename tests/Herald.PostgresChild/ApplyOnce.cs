using Herald.Postgres;
using Npgsql;

namespace Herald.PostgresChild;

/// <summary>Applies each event once by effect: the inbox record and the effect row commit together, or neither does.</summary>
public sealed class ApplyOnce(PostgresInboxStore inbox, Member member) : IEventHandler<UserCreated>
{
    public async Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(member.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using NpgsqlTransaction tx = await connection.BeginTransactionAsync(cancellationToken);
        if (await inbox.TryRecordAsync(tx, "workers", context.Envelope.Id, cancellationToken))
        {
            await using var effect = new NpgsqlCommand("INSERT INTO effects (event_id, user_id, member) VALUES ($1, $2, $3)", connection, tx);
            effect.Parameters.AddWithValue(context.Envelope.Id);
            effect.Parameters.AddWithValue(context.Event.Id);
            effect.Parameters.AddWithValue(member.Name);
            await effect.ExecuteNonQueryAsync(cancellationToken);
        }

        await Task.Delay(1, cancellationToken); // some work: a kill lands inside handlers too
        await tx.CommitAsync(cancellationToken);
    }
}
