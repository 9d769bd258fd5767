using Herald.Benchmarks.Fanout;
using Herald.InMemory;

namespace Herald.Benchmarks.Systems;

/// <summary>Herald's lane queue (<c>BoundedRing</c>) used raw, one per subscriber, 1024, Wait: the queue alone.</summary>
public sealed class RingSystem : IFanoutSystem
{
    private BoundedRing<UserCreated>[] _rings = [];
    private Task[] _readers = [];

    public Task StartAsync(Probe probe)
    {
        _rings = new BoundedRing<UserCreated>[Probe.Subscribers];
        _readers = new Task[Probe.Subscribers];
        for (int s = 0; s < Probe.Subscribers; s++)
        {
            int subscriber = s;
            var ring = new BoundedRing<UserCreated>(1024, RingFullMode.Wait, null);
            _rings[s] = ring;
            _readers[s] = Task.Run(async () =>
            {
                while (await ring.WaitToReadAsync(CancellationToken.None))
                {
                    while (ring.TryRead(out UserCreated? e))
                    {
                        probe.Record(subscriber, e);
                    }
                }
            });
        }

        return Task.CompletedTask;
    }

    public ValueTask PublishAsync(UserCreated e)
    {
        BoundedRing<UserCreated>[] rings = _rings;
        for (int i = 0; i < rings.Length; i++)
        {
            if (!rings[i].TryWrite(e))
            {
                return PublishSlowAsync(e, i);
            }
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (BoundedRing<UserCreated> ring in _rings)
        {
            ring.Complete();
        }

        await Task.WhenAll(_readers);
    }

    private async ValueTask PublishSlowAsync(UserCreated e, int from)
    {
        for (int i = from; i < _rings.Length; i++)
        {
            while (!_rings[i].TryWrite(e))
            {
                if (!await _rings[i].WaitToWriteAsync(CancellationToken.None))
                {
                    throw new InvalidOperationException("completed");
                }
            }
        }
    }
}
