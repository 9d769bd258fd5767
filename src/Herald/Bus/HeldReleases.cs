using Microsoft.Extensions.Logging;

namespace Herald;

/// <summary>
/// Hands events the bus held back (delayed ones, or ones behind a paused gate) on for delivery, one at a time, and
/// counts what could not be: a failed delivery (logged, and the release goes on) and an event taken out when the bus
/// was stopping or still held at disposal (dropped on dispose).
/// </summary>
internal sealed class HeldReleases(Func<Envelope, CancellationToken, ValueTask> deliver, ILogger logger, Action<ILogger, Exception, Envelope, string?> logFailure)
{
    private long _failures;
    private long _droppedOnDispose;

    /// <summary>Released events whose delivery failed (each logged).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Held events the bus was disposed before it could deliver.</summary>
    public long DroppedOnDispose => Interlocked.Read(ref _droppedOnDispose);

    /// <summary>Counts events still held when the bus is disposed.</summary>
    public void CountDropped(long count) => Interlocked.Add(ref _droppedOnDispose, count);

    /// <summary>
    /// Delivers one released event. False when the bus is stopping: the event was taken out but not delivered, and is
    /// counted as dropped on dispose. A failure is counted and logged (with <paramref name="from"/>), and true returned.
    /// </summary>
    public async ValueTask<bool> DeliverAsync(Envelope envelope, string? from, CancellationToken stopping)
    {
        try
        {
            await deliver(envelope, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            Interlocked.Increment(ref _droppedOnDispose);
            return false;
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _failures);
            logFailure(logger, ex, envelope, from);
        }

        return true;
    }
}
