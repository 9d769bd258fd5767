using System.Threading.Channels;

namespace Herald.Postgres;

/// <summary>
/// Group commit: items written at the same time go to one write (one round trip, one commit), up to a batch (or,
/// for lookups, items asked for at the same time go to one query); each
/// caller waits for its own result. A caller that cancels before its item was taken is left out of the write; once
/// taken, the item is written and the caller merely stops waiting. The loop starts at the first item.
/// </summary>
/// <typeparam name="TItem">What is written.</typeparam>
/// <typeparam name="TResult">What each item's write gives back.</typeparam>
internal sealed class GroupCommit<TItem, TResult>(int maxBatch, Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> write, TimeProvider time)
{
    private readonly Channel<Entry> _queue = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _lock = new();
    private Task? _loop;

    /// <summary>Writes <paramref name="item"/> with whatever else waits; completes with its result once committed.</summary>
    /// <exception cref="ObjectDisposedException">The writer has stopped.</exception>
    public async Task<TResult> WriteAsync(TItem item, CancellationToken cancellationToken)
    {
        var entry = new Entry(item, cancellationToken);
        lock (_lock)
        {
            if (!_queue.Writer.TryWrite(entry))
            {
                throw new ObjectDisposedException(nameof(GroupCommit<TItem, TResult>)); // never a wait that nothing ends
            }

            _loop ??= Task.Run(LoopAsync, CancellationToken.None);
        }

#pragma warning disable VSTHRD003 // completed by this writer's loop after the commit
        return await entry.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
#pragma warning restore VSTHRD003
    }

    /// <summary>Takes no more items and waits, at most <paramref name="bound"/>, for those taken to be written.</summary>
    public async Task StopAsync(TimeSpan bound)
    {
        Task? loop;
        lock (_lock)
        {
            _queue.Writer.TryComplete();
            loop = _loop;
        }

        if (loop is not null)
        {
            try
            {
#pragma warning disable VSTHRD003 // this writer's own loop
                await loop.WaitAsync(bound, time).ConfigureAwait(false);
#pragma warning restore VSTHRD003
            }
            catch (TimeoutException)
            {
                // the database away: what is left fails with its connection's timeout
            }
        }
    }

    private async Task LoopAsync()
    {
        var batch = new List<Entry>(maxBatch);
        ChannelReader<Entry> reader = _queue.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < maxBatch && reader.TryRead(out Entry? next))
            {
                if (next.Cancellation.IsCancellationRequested)
                {
                    next.Done.TrySetCanceled(next.Cancellation); // cancelled before it was taken: not written
                }
                else
                {
                    batch.Add(next);
                }
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                IReadOnlyList<TResult> results = await write([.. batch.Select(e => e.Item)]).ConfigureAwait(false);
                for (int i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(results[i]);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                foreach (Entry failed in batch)
                {
                    failed.Done.TrySetException(ex);
                }
            }
        }
    }

    private sealed record Entry(TItem Item, CancellationToken Cancellation)
    {
        public TaskCompletionSource<TResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
