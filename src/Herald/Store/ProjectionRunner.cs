using System.Runtime.CompilerServices;

namespace Herald;

/// <summary>
/// Runs <see cref="IProjection"/>s over an <see cref="IEventStore"/>: from the stored checkpoint, through the history,
/// then live. The checkpoint is stored every <see cref="CheckpointEvery"/> events, when the projection catches up,
/// and when it stops.
/// </summary>
/// <param name="store">The event store.</param>
public sealed class ProjectionRunner(IEventStore store)
{
    private readonly IEventStore _store = store ?? throw new ArgumentNullException(nameof(store));

    /// <summary>How many events may be applied between two stored checkpoints. Default 100.</summary>
    public int CheckpointEvery { get; init; } = 100;

    /// <summary>Runs <paramref name="projection"/> until <paramref name="cancellationToken"/> fires; the checkpoint is stored on the way out.</summary>
    /// <returns>Never completes normally: it throws <see cref="OperationCanceledException"/> when cancelled, after storing the checkpoint.</returns>
    public async Task RunAsync(IProjection projection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(projection);
        long checkpoint = await _store.LoadCheckpointAsync(projection.Name, cancellationToken).ConfigureAwait(false);
        long stored = checkpoint;
        try
        {
            IAsyncEnumerator<RecordedEvent> events = _store.SubscribeAsync(checkpoint + 1, projection.Category, cancellationToken).GetAsyncEnumerator(cancellationToken);
            await using ConfiguredAsyncDisposable disposeEvents = events.ConfigureAwait(false);
            while (true)
            {
                ValueTask<bool> next = events.MoveNextAsync();
                if (!next.IsCompleted && checkpoint > stored)
                {
                    // Caught up (the next event is not there yet): a good moment to store the checkpoint.
                    await _store.SaveCheckpointAsync(projection.Name, checkpoint, CancellationToken.None).ConfigureAwait(false);
                    stored = checkpoint;
                }

                if (!await next.ConfigureAwait(false))
                {
                    return;
                }

                await projection.ApplyAsync(events.Current, cancellationToken).ConfigureAwait(false);
                checkpoint = events.Current.Position;
                if (checkpoint - stored >= CheckpointEvery)
                {
                    await _store.SaveCheckpointAsync(projection.Name, checkpoint, cancellationToken).ConfigureAwait(false);
                    stored = checkpoint;
                }
            }
        }
        finally
        {
            if (checkpoint > stored)
            {
                await _store.SaveCheckpointAsync(projection.Name, checkpoint, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Clears the projection's read model and its checkpoint, so the next run applies every event from the first.</summary>
    public async Task ResetAsync(IProjection projection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(projection);
        await projection.ResetAsync(cancellationToken).ConfigureAwait(false);
        await _store.SaveCheckpointAsync(projection.Name, 0, cancellationToken).ConfigureAwait(false);
    }
}
