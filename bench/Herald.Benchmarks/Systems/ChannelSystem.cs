using System.Threading.Channels;
using Herald.Benchmarks.Fanout;

namespace Herald.Benchmarks.Systems;

/// <summary>
/// Raw <see cref="Channel{T}"/> per subscriber: bounded (1024, Wait; the ceiling for Herald's semantics) or unbounded.
/// <paramref name="fastest"/>: the bounded channels in their fastest honest form, one reader and one writer declared
/// (<c>SingleReader</c>, <c>SingleWriter</c>) and read with a <c>WaitToReadAsync</c>/<c>TryRead</c> loop instead of
/// <c>ReadAllAsync</c> with default options.
/// </summary>
public sealed class ChannelSystem(bool bounded, bool fastest = false) : IFanoutSystem
{
    private Channel<UserCreated>[] _channels = [];
    private Task[] _readers = [];

    public Task StartAsync(Probe probe)
    {
        _channels = new Channel<UserCreated>[Probe.Subscribers];
        _readers = new Task[Probe.Subscribers];
        for (int s = 0; s < Probe.Subscribers; s++)
        {
            int subscriber = s;
            Channel<UserCreated> channel = bounded
                ? Channel.CreateBounded<UserCreated>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.Wait, SingleReader = fastest, SingleWriter = fastest })
                : Channel.CreateUnbounded<UserCreated>();
            _channels[s] = channel;
            _readers[s] = fastest
                ? Task.Run(async () =>
                {
                    ChannelReader<UserCreated> reader = channel.Reader;
                    while (await reader.WaitToReadAsync())
                    {
                        while (reader.TryRead(out UserCreated? e))
                        {
                            probe.Record(subscriber, e);
                        }
                    }
                })
                : Task.Run(async () =>
                {
                    await foreach (UserCreated e in channel.Reader.ReadAllAsync())
                    {
                        probe.Record(subscriber, e);
                    }
                });
        }

        return Task.CompletedTask;
    }

    public ValueTask PublishAsync(UserCreated e)
    {
        Channel<UserCreated>[] channels = _channels;
        for (int i = 0; i < channels.Length; i++)
        {
            if (!channels[i].Writer.TryWrite(e))
            {
                return PublishSlowAsync(e, i);
            }
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Channel<UserCreated> channel in _channels)
        {
            channel.Writer.TryComplete();
        }

        await Task.WhenAll(_readers);
    }

    private async ValueTask PublishSlowAsync(UserCreated e, int from)
    {
        for (int i = from; i < _channels.Length; i++)
        {
            await _channels[i].Writer.WriteAsync(e);
        }
    }
}
