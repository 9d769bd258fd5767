using System.Collections.Concurrent;
using Herald.MessagePack;
using Herald.Protobuf;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Formats;

/// <summary>
/// One topic migrating from JSON to MessagePack, run on each transport: an old publisher writes JSON, a new one
/// MessagePack (its transport's serializer), and a reader that added the MessagePack deserializer reads both, each by
/// its <c>datacontenttype</c>. Types with a serializer of their own are written in it whatever the transport's, an
/// all-default Protobuf event (zero bytes) included.
/// </summary>
internal static class MixedFormatsScenario
{
    public sealed class Seen
    {
        public ConcurrentQueue<(object Event, string? ContentType)> Events { get; } = new();
    }

    public sealed class Record(Seen seen) : IEventHandler<Migrating>, IEventHandler<PackedOrder>, IEventHandler<ProtoPing>
    {
        public Task HandleAsync(EventContext<Migrating> context, CancellationToken cancellationToken) => Add(context.Event, context.Envelope);

        public Task HandleAsync(EventContext<PackedOrder> context, CancellationToken cancellationToken) => Add(context.Event, context.Envelope);

        public Task HandleAsync(EventContext<ProtoPing> context, CancellationToken cancellationToken) => Add(context.Event, context.Envelope);

        private Task Add(object @event, Envelope envelope)
        {
            seen.Events.Enqueue((@event, envelope.DataContentType));
            return Task.CompletedTask;
        }
    }

    /// <param name="transport">Puts the host on the transport, writing with the given serializer (null: the transport's default, JSON).</param>
    public static async Task RunAsync(Action<HeraldBuilder, IEventSerializer?> transport)
    {
        var seen = new Seen();
        await using HeraldTestHarness reader = await HeraldTestHarness.StartAsync(
            h =>
            {
                transport(h, null);
                h.AddDeserializer(new MessagePackEventSerializer())
                    .UseSerializer<PackedOrder>(new MessagePackEventSerializer())
                    .UseSerializer<ProtoPing>(new ProtobufEventSerializer())
                    .AddHandler<Record, Migrating>(o => o.Name = "record-migrating")
                    .AddHandler<Record, PackedOrder>(o => o.Name = "record-packed")
                    .AddHandler<Record, ProtoPing>(o => o.Name = "record-ping");
            },
            s => s.AddSingleton(seen));

        await using (HeraldTestHarness oldPublisher = await HeraldTestHarness.StartAsync(h => transport(h, null)))
        {
            await oldPublisher.Bus.PublishAsync(new Migrating("a", 1));
        }

        await using (HeraldTestHarness newPublisher = await HeraldTestHarness.StartAsync(h => transport(h, new MessagePackEventSerializer())))
        {
            await newPublisher.Bus.PublishAsync(new Migrating("b", 2));
        }

        await reader.Bus.PublishAsync(new PackedOrder("o-1", 19.99m));
        await reader.Bus.PublishAsync(new ProtoPing(0)); // every member at its default: an empty Protobuf payload
        await reader.Bus.PublishAsync(new ProtoPing(7));

        await Poll.UntilAsync(() => seen.Events.Count >= 5, TimeSpan.FromSeconds(30), () => string.Join(", ", seen.Events));
        Assert.Equal(
            [
                (new Migrating("a", 1), "application/json"),
                (new Migrating("b", 2), "application/msgpack"),
                (new PackedOrder("o-1", 19.99m), "application/msgpack"),
                (new ProtoPing(0), "application/protobuf"),
                (new ProtoPing(7), "application/protobuf"),
            ],
            seen.Events.OrderBy(e => e.Event.ToString(), StringComparer.Ordinal));
        Assert.Empty(await reader.DeadLetters.ListAsync(max: 10));
    }
}
