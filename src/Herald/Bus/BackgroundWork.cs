namespace Herald;

/// <summary>
/// The tasks a bus runs on its own. Each has an owner (the bus), a stop token, and a count, so a disposed bus can
/// prove it left nothing running.
/// </summary>
internal sealed class BackgroundWork : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _sync = new();
    private readonly HashSet<Task> _running = [];
    private int _count;
    private bool _disposed;

    /// <summary>Tasks started and not yet finished.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Starts <paramref name="work"/> on the thread pool with the bus's stop token.</summary>
    /// <exception cref="ObjectDisposedException">The owner was disposed.</exception>
    public void Run(Func<CancellationToken, Task> work)
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Interlocked.Increment(ref _count);
        }

        Task task = Task.Run(async () =>
        {
            try
            {
                await work(_stopping.Token).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _count);
            }
        });
        lock (_sync)
        {
            _running.Add(task);
            _running.RemoveWhere(t => t.IsCompleted);
        }
    }

    /// <summary>Signals every task to stop and waits for all of them.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] tasks;
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            tasks = [.. _running];
        }

        await _stopping.CancelAsync().ConfigureAwait(false);

        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // a task stopped by the token: expected at dispose
        }

        _stopping.Dispose();
    }
}
