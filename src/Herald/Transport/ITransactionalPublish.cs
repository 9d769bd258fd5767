using System.Data.Common;

namespace Herald.Transport;

/// <summary>
/// An optional ability of a transport that stores events in a database: publishing inside the caller's transaction
/// (the outbox pattern), so the business write and its events commit together or not at all
/// (<see cref="PublishOptions.Transaction"/>).
/// </summary>
public interface ITransactionalPublish
{
    /// <summary>Writes the envelope in <paramref name="transaction"/>; consumers see it when the caller commits.</summary>
    /// <exception cref="ArgumentException">The transaction does not belong to this transport's database.</exception>
    ValueTask PublishAsync(Envelope envelope, DbTransaction transaction, CancellationToken cancellationToken);
}
