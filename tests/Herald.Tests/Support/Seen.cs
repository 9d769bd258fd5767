using System.Collections.Concurrent;

namespace Herald.Tests.Support;

/// <summary>Counts what each handler saw, by event id, across harness restarts.</summary>
public sealed class Seen
{
    public ConcurrentDictionary<string, int> Email { get; } = new();

    public ConcurrentDictionary<string, int> Points { get; } = new();

    public ConcurrentQueue<(long Id, int Attempt)> Order { get; } = new();
}
