using Herald.Benchmarks.Fanout;

namespace Herald.Benchmarks.Systems;

/// <summary>A direct inline call to the three subscribers: the floor of dispatch cost (no queue, no isolation).</summary>
public sealed class DirectSystem : IFanoutSystem
{
    private Probe? _probe;

    public Task StartAsync(Probe probe)
    {
        _probe = probe;
        return Task.CompletedTask;
    }

    public ValueTask PublishAsync(UserCreated e)
    {
        _probe!.Record(0, e);
        _probe.Record(1, e);
        _probe.Record(2, e);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
