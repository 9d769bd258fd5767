using System.Globalization;
using System.Text.RegularExpressions;
using Herald.Dashboard.Systems;
using Herald.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Herald.Cli;

/// <summary>
/// A NATS JetStream server as the operator sees it: the events' stream is a log (positions are stream sequences, so
/// <c>tail</c> and the dashboard read back as well as forward), the groups are the stream's durable consumers (pending,
/// acknowledgements pending, redeliveries), and the dead letters are the dead-letter stream.
/// </summary>
internal sealed partial class NatsSystem : HeraldSystem
{
    /// <summary>How far back an event is looked up by id (the stream has no index by id).</summary>
    private const int LookBack = 10_000;

    private readonly EventBus _bus;
    private readonly NatsTransport _transport;
    private readonly NatsOptions _options;
    private readonly NatsDeadLetterStore _deadLetters;
    private readonly string _name;

    private NatsSystem(EventBus bus, NatsOptions options, string name)
    {
        _bus = bus;
        _transport = (NatsTransport)bus.Transport;
        _options = options;
        _name = name;
        _deadLetters = new NatsDeadLetterStore(() => _transport, consumer => consumer);
    }

    public override string Name => _name;

    public override bool HasLog => true;

    public static async Task<HeraldSystem> OpenAsync(string url, string stream, string subjectPrefix, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url.Split(',')[0].Trim(), UriKind.Absolute, out Uri? nats) || nats.Scheme is not ("nats" or "tls" or "ws" or "wss"))
        {
            throw CliException.Usage($"--nats takes a NATS URL such as nats://127.0.0.1:4222, not '{Redacted.NatsUrl(url)}'.");
        }

        // An operator's tool finds the streams as they are: a typo in --stream or --subject-prefix is an error, not a new stream.
        var options = new NatsOptions { Url = url, Stream = stream, SubjectPrefix = subjectPrefix, ConnectTimeout = TimeSpan.FromSeconds(10), CreatesStreams = false };
        EventBus bus;
        try
        {
            bus = new EventBus(new EventBusOptions { Name = "herald-cli", Source = "urn:herald:cli" }.UseNats(options));
        }
        catch (ArgumentException ex)
        {
            throw CliException.Usage(ex.Message);
        }

        try
        {
            await ((NatsTransport)bus.Transport).ConnectAsync(cancellationToken).ConfigureAwait(false); // fail here, clearly, rather than mid-command
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or NatsException)
        {
            await bus.DisposeAsync().ConfigureAwait(false);
            throw new CliException($"NATS at {nats.Host}:{(nats.Port > 0 ? nats.Port : 4222)} is not reachable: {ex.Message}", ex);
        }

        return new NatsSystem(bus, options, $"nats {nats.Scheme}://{nats.Host}:{(nats.Port > 0 ? nats.Port : 4222)} stream {stream}");
    }

    private async Task<NatsJSContext> JetStreamAsync(CancellationToken cancellationToken) => await _transport.ConnectAsync(cancellationToken).ConfigureAwait(false);

    public override async Task<long> GetHeadAsync(CancellationToken cancellationToken)
    {
        INatsJSStream stream = await (await JetStreamAsync(cancellationToken).ConfigureAwait(false)).GetStreamAsync(_options.Stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (long)stream.Info.State.LastSeq;
    }

    public override async Task<IReadOnlyList<ObservedEvent>> ReadEventsAsync(long after, int max, TopicPattern? pattern, CancellationToken cancellationToken)
    {
        long head = await GetHeadAsync(cancellationToken).ConfigureAwait(false);
        return head <= after ? [] : await ReadRangeAsync(after + 1, head, max, pattern, cancellationToken).ConfigureAwait(false);
    }

    public override async Task<IReadOnlyList<ObservedEvent>> ReadLatestAsync(int max, TopicPattern? pattern, CancellationToken cancellationToken)
    {
        long head = await GetHeadAsync(cancellationToken).ConfigureAwait(false);
        long from = Math.Max(1, head - (pattern is null ? max : Math.Max(max, LookBack)) + 1);
        IReadOnlyList<ObservedEvent> read = await ReadRangeAsync(from, head, int.MaxValue, pattern, cancellationToken).ConfigureAwait(false);
        return [.. read.Skip(Math.Max(0, read.Count - max))];
    }

    /// <summary>Events from <paramref name="from"/> to <paramref name="to"/> (stream sequences) in order, read by an ordered consumer.</summary>
    private async Task<IReadOnlyList<ObservedEvent>> ReadRangeAsync(long from, long to, int max, TopicPattern? pattern, CancellationToken cancellationToken)
    {
        var read = new List<ObservedEvent>();
        if (from > to)
        {
            return read;
        }

        NatsJSContext js = await JetStreamAsync(cancellationToken).ConfigureAwait(false);
        INatsJSConsumer reader = await js.CreateOrderedConsumerAsync(_options.Stream, new NatsJSOrderedConsumerOpts
        {
            DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
            OptStartSeq = (ulong)from,
        }, cancellationToken).ConfigureAwait(false);
        ulong last = 0;
        while (read.Count < max && (long)last < to)
        {
            int batch = 0;
            await foreach (INatsJSMsg<ReadOnlyMemory<byte>> message in reader.FetchAsync(new NatsJSFetchOpts { MaxMsgs = 256, Expires = TimeSpan.FromSeconds(2) }, NatsRawSerializer<ReadOnlyMemory<byte>>.Default, cancellationToken).ConfigureAwait(false))
            {
                batch++;
                last = message.Metadata?.Sequence.Stream ?? (ulong)to;
                Envelope envelope = Decode(message);
                if (pattern is null || pattern.IsMatch(envelope.Type))
                {
                    read.Add(new ObservedEvent((long)last, envelope));
                }

                if (read.Count >= max || (long)last >= to)
                {
                    break;
                }
            }

            if (batch == 0)
            {
                break;
            }
        }

        return read;
    }

    private Envelope Decode(INatsJSMsg<ReadOnlyMemory<byte>> message)
    {
        try
        {
            return NatsCloudEvents.Decode(message.Headers, message.Data, TimeProvider.System.GetUtcNow());
        }
        catch (EventDecodingException ex)
        {
            return Envelope.Undecodable(NatsSubjects.TopicOf(_options.SubjectPrefix, message.Subject), message.Data.ToArray(), TimeProvider.System.GetUtcNow(), ex.Message);
        }
    }

    public override async Task<EventDetail?> GetEventAsync(string id, CancellationToken cancellationToken)
    {
        IReadOnlyList<ObservedEvent> recent = await ReadLatestAsync(LookBack, null, cancellationToken).ConfigureAwait(false);
        if (recent.LastOrDefault(e => e.Envelope.Id == id) is not { } found)
        {
            return null;
        }

        TopologyView topology = await GetTopologyAsync(cancellationToken).ConfigureAwait(false);
        IReadOnlyList<DeadLetter> letters = await ListDeadLettersAsync(TopicPattern.Parse(found.Envelope.Type), 10_000, cancellationToken).ConfigureAwait(false);
        var deliveries = new List<DeliveryView>();
        foreach (GroupView group in topology.ConsumersOf(found.Envelope.Type))
        {
            long ackFloor = long.Parse(group.Details.GetValueOrDefault("ack floor", "0"), CultureInfo.InvariantCulture);
            deliveries.Add(letters.FirstOrDefault(l => l.Envelope.Id == id && l.Consumer == group.Name) is { } letter
                ? new DeliveryView(group.Name, "dead-lettered", letter.Attempts, letter.Reason)
                : found.Position <= ackFloor
                    ? new DeliveryView(group.Name, "handled", null, $"acknowledged (ack floor {ackFloor})")
                    : new DeliveryView(group.Name, "routed", null, $"{group.Depth} pending in consumer {group.Details.GetValueOrDefault("consumer")}"));
        }

        return new EventDetail(found, deliveries);
    }

    /// <summary>Publishes (stored once JetStream acknowledged it); an event no group's consumer takes is a clear error, as on RabbitMQ.</summary>
    public override Task PublishAsync(Envelope envelope, CancellationToken cancellationToken) =>
        RoutedPublish.PublishAsync(
            _bus,
            envelope,
            $"'{envelope.Type}' was stored in stream {_options.Stream} ({envelope.Id}), but no consumer group's filter takes it: nobody handles it. "
            + "Check the topic, or start the application that subscribes to it (a new group starts with the events published after it).",
            cancellationToken);

    public override async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(TopicPattern? pattern, int max, CancellationToken cancellationToken) =>
        await _deadLetters.ListAsync(pattern, max, cancellationToken).ConfigureAwait(false);

    public override async Task<DeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken) =>
        await _deadLetters.GetAsync(id, cancellationToken).ConfigureAwait(false);

    /// <summary>Publishes the event to the group's redrive subject (its own consumer takes it, as a first attempt), then removes the dead letter.</summary>
    public override async Task<bool> RedriveAsync(string id, CancellationToken cancellationToken)
    {
        if (await _deadLetters.FindAsync(id, cancellationToken).ConfigureAwait(false) is not { } stored)
        {
            return false;
        }

        // Only a running group takes its redrives: without its redrive consumer the event would sit in the stream unread.
        NatsJSContext js = await JetStreamAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await js.GetConsumerAsync(_options.Stream, stored.GroupToken + "__redrive", cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            throw new CliException($"Dead letter {id} belongs to group '{stored.Letter.Consumer}', which has no redrive consumer on stream {_options.Stream} (the JetStream consumer {stored.GroupToken}__redrive): start the group once, then redrive.", ex);
        }

        // The dead letter's id as the message id: a publish retried after a lost acknowledgement is stored once.
        (NatsHeaders headers, ReadOnlyMemory<byte> body) = NatsCloudEvents.Encode(stored.Letter.Envelope.WithAttempt(1), _options.Serializer);
        await _transport.PublishStoredAsync(js, $"{_transport.RedrivePrefix}.{stored.GroupToken}", headers, body, messageId: "redrive-" + id, $"the redrive of {id}", cancellationToken).ConfigureAwait(false);
        return await _deadLetters.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public override async Task<bool> PurgeAsync(string id, CancellationToken cancellationToken) =>
        await _deadLetters.RemoveAsync(id, cancellationToken).ConfigureAwait(false);

    /// <summary>The groups: the stream's durable consumers Herald made (their description names the group and pattern), with JetStream's counts.</summary>
    public override async Task<TopologyView> GetTopologyAsync(CancellationToken cancellationToken)
    {
        NatsJSContext js = await JetStreamAsync(cancellationToken).ConfigureAwait(false);
        var groups = new Dictionary<string, (List<MemberView> Members, long Pending, long AckPending, long Redelivered, long Waiting, ulong AckFloor, List<string> Consumers)>(StringComparer.Ordinal);
        await foreach (INatsJSConsumer consumer in js.ListConsumersAsync(_options.Stream, cancellationToken).ConfigureAwait(false))
        {
            NATS.Client.JetStream.Models.ConsumerInfo info = consumer.Info;
            Match described = Described().Match(info.Config.Description ?? string.Empty);
            if (!described.Success)
            {
                continue; // not Herald's (an operator's or a tool's consumer on the same stream)
            }

            string group = described.Groups["group"].Value;
            if (!groups.TryGetValue(group, out var entry))
            {
                entry = ([], 0, 0, 0, 0, ulong.MaxValue, []);
            }

            bool redrive = info.Name.EndsWith("__redrive", StringComparison.Ordinal);
            if (!redrive && entry.Members.Count == 0)
            {
                entry.Members.Add(new MemberView(group, described.Groups["pattern"].Value, null));
            }

            entry.Consumers.Add(info.Name);
            groups[group] = (entry.Members, entry.Pending + (long)info.NumPending, entry.AckPending + info.NumAckPending, entry.Redelivered + info.NumRedelivered,
                entry.Waiting + info.NumWaiting, redrive ? entry.AckFloor : Math.Min(entry.AckFloor, info.AckFloor.StreamSeq), entry.Consumers);
        }

        var views = groups.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new GroupView(g.Key, g.Value.Pending, null, null, g.Value.Members, new Dictionary<string, long>())
        {
            Details = new Dictionary<string, string>
            {
                ["consumer"] = string.Join(", ", g.Value.Consumers),
                ["pending"] = Text(g.Value.Pending),
                ["ack pending"] = Text(g.Value.AckPending),
                ["redelivered"] = Text(g.Value.Redelivered),
                ["waiting pulls"] = Text(g.Value.Waiting),
                ["ack floor"] = Text(g.Value.AckFloor == ulong.MaxValue ? 0 : (long)g.Value.AckFloor),
            },
        }).ToList();

        IReadOnlyList<ObservedEvent> recent = await ReadLatestAsync(1_000, null, cancellationToken).ConfigureAwait(false);
        TopicView[] topics = [.. recent.GroupBy(e => e.Envelope.Type, StringComparer.Ordinal)
            .OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => new TopicView(t.Key, t.Count(), 0, [.. t.Select(e => e.Envelope.Source).Distinct(StringComparer.Ordinal)]))];
        return new TopologyView(topics, views);
    }

    public override async Task<Counters> ReadCountersAsync(CancellationToken cancellationToken)
    {
        long published = await GetHeadAsync(cancellationToken).ConfigureAwait(false);
        NatsJSContext js = await JetStreamAsync(cancellationToken).ConfigureAwait(false);
        long handled = 0;
        await foreach (INatsJSConsumer consumer in js.ListConsumersAsync(_options.Stream, cancellationToken).ConfigureAwait(false))
        {
            handled += (long)consumer.Info.AckFloor.ConsumerSeq;
        }

        return new Counters(published, handled, []);
    }

    public override async ValueTask DisposeAsync() => await _bus.DisposeAsync().ConfigureAwait(false);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^Herald consumer group '(?<group>.*)' \((?<pattern>[^)]*)\)$")]
    private static partial Regex Described();
}
