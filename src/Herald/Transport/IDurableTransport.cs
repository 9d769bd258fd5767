using System.Data.Common;

namespace Herald.Transport;

/// <summary>
/// Optional abilities of a transport that stores events: publishing inside the caller's database transaction (the
/// outbox pattern) and delayed delivery that survives a restart.
/// </summary>
internal interface IDurableTransport : ITransport
{
    /// <summary>Writes the envelope in <paramref name="transaction"/>; consumers see it when the caller commits.</summary>
    /// <exception cref="ArgumentException">The transaction does not belong to this transport's database.</exception>
    ValueTask PublishAsync(Envelope envelope, DbTransaction transaction, CancellationToken cancellationToken);

    /// <summary>Stores the envelope to be published at <paramref name="due"/>; completes when it is stored.</summary>
    ValueTask ScheduleAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken);
}
