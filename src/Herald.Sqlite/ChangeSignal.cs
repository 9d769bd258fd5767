namespace Herald.Sqlite;

/// <summary>
/// Wakes this process's readers when a writer here committed. Take <see cref="Current"/> before reading, then wait on
/// it when the read came back empty, so a commit between the read and the wait is not missed. Commits of other
/// processes are found by polling.
/// </summary>
internal sealed class ChangeSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Current => Volatile.Read(ref _next).Task;

    public void Notify() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits for <paramref name="changed"/> or the poll interval, whichever comes first.</summary>
    public static async Task WaitAsync(Task changed, TimeSpan poll, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await changed.WaitAsync(poll, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // poll: another process may have written
        }
    }
}
