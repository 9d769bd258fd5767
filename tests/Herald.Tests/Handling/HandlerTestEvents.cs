using System.Collections.Concurrent;

namespace Herald.Tests.Handling;

[Topic("heartbeat.beat")]
public sealed record Heartbeat(int Number);

/// <summary>What handlers under test saw, shared through DI.</summary>
public sealed class Probe
{
    public ConcurrentQueue<object> Seen { get; } = new();

    public ConcurrentQueue<DateTimeOffset> AttemptTimes { get; } = new();

    public int Attempts;

    public int FailuresLeft;

    public int Children;

    /// <summary>Completed by a handler when <see cref="Attempts"/> reaches <see cref="Expected"/>.</summary>
    public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Expected;

    /// <summary>Counts an attempt and completes <see cref="Reached"/> at <see cref="Expected"/>.</summary>
    public void Attempt()
    {
        if (Interlocked.Increment(ref Attempts) == Expected)
        {
            Reached.TrySetResult();
        }
    }

    public bool SawCancellation;

    public ConcurrentDictionary<int, ConcurrentQueue<int>> ByKey { get; } = new();
}
