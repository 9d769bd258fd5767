namespace Herald.Transport;

/// <summary>
/// An auto-reset signal for one waiter: <see cref="Ring"/> wakes the waiter, or is remembered when nobody waits, so
/// no wake-up is lost. Used to wait on "any lane has something" without registering on every lane.
/// </summary>
internal sealed class AsyncSignal
{
    private readonly Lock _lock = new();
    private volatile bool _set;
    private TaskCompletionSource? _waiter;

    public void Ring()
    {
        if (_set)
        {
            return; // already signalled: the waiter will look at every lane again anyway
        }

        TaskCompletionSource? waiter;
        lock (_lock)
        {
            waiter = _waiter;
            _waiter = null;
            _set = waiter is null;
        }

        waiter?.TrySetResult();
    }

    public Task WaitAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_set)
            {
                _set = false;
                return Task.CompletedTask;
            }

            // Continuations run asynchronously so a publisher's Ring never runs the reader's loop inline.
            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _waiter.Task.WaitAsync(cancellationToken);
        }
    }
}
