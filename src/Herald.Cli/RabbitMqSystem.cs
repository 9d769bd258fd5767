using System.Text.RegularExpressions;
using Herald.Dashboard.Systems;
using Herald.RabbitMQ;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Herald.Cli;

/// <summary>
/// A RabbitMQ broker as the operator sees it: Herald's queues (found through the management API) with their
/// bindings, depths and consumers (asked over AMQP, exact and immediate), their dead-letter queues, and a private
/// auto-delete queue bound to the exchange that shows events as they pass (a broker keeps no log to read back).
/// </summary>
internal sealed partial class RabbitMqSystem : HeraldSystem
{
    private readonly EventBus _bus;
    private readonly RabbitMqTransport _transport;
    private readonly RabbitMqOptions _options;
    private readonly RabbitMqManagement _management;
    private readonly RabbitMqDeadLetterStore _deadLetters;
    private readonly string _name;
    private readonly EventTap _tap = new(10_000, TimeProvider.System);
    private readonly SemaphoreSlim _tapping = new(1, 1);
    private IChannel? _tapChannel;
    private IReadOnlyList<string> _groups = [];

    private RabbitMqSystem(EventBus bus, RabbitMqOptions options, RabbitMqManagement management, string name)
    {
        _bus = bus;
        _transport = (RabbitMqTransport)bus.Transport;
        _options = options;
        _management = management;
        _name = name;
        _deadLetters = new RabbitMqDeadLetterStore(() => _transport, () => _groups, consumer => consumer, options);
    }

    public override string Name => _name;

    public override bool HasLog => false;

    public static async Task<HeraldSystem> OpenAsync(string uri, string exchange, string queuePrefix, string? management, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out Uri? amqp) || (amqp.Scheme != "amqp" && amqp.Scheme != "amqps"))
        {
            throw CliException.Usage($"--rabbitmq takes an AMQP URI such as amqp://user:password@127.0.0.1:5672/, not '{Redacted.Uri(uri)}'.");
        }

        var options = new RabbitMqOptions { Uri = uri, Exchange = exchange, QueuePrefix = queuePrefix, Mandatory = true };
        var bus = new EventBus(new EventBusOptions { Name = "herald-cli", Source = "urn:herald:cli" }.UseRabbitMQ(options));
        try
        {
            await ((RabbitMqTransport)bus.Transport).ConnectAsync(cancellationToken).ConfigureAwait(false); // fail here, clearly, rather than mid-command
        }
        catch (Exception ex) when (ex is global::RabbitMQ.Client.Exceptions.BrokerUnreachableException or System.Net.Sockets.SocketException or IOException or TimeoutException)
        {
            await bus.DisposeAsync().ConfigureAwait(false);
            throw new CliException($"RabbitMQ at {amqp.Host}:{(amqp.Port > 0 ? amqp.Port : 5672)} is not reachable: {ex.Message}", ex);
        }

        // The name shown never carries the password.
        string name = $"rabbitmq {amqp.Scheme}://{amqp.Host}:{(amqp.Port > 0 ? amqp.Port : 5672)}{amqp.AbsolutePath} exchange {exchange}";
        return new RabbitMqSystem(bus, options, RabbitMqManagement.For(amqp, management), name);
    }

    public override async Task<long> GetHeadAsync(CancellationToken cancellationToken)
    {
        await EnsureTappingAsync(cancellationToken).ConfigureAwait(false);
        return _tap.Head;
    }

    public override async Task<IReadOnlyList<ObservedEvent>> ReadEventsAsync(long after, int max, TopicPattern? pattern, CancellationToken cancellationToken)
    {
        await EnsureTappingAsync(cancellationToken).ConfigureAwait(false);
        return _tap.Read(after, max, pattern);
    }

    public override async Task<IReadOnlyList<ObservedEvent>> ReadLatestAsync(int max, TopicPattern? pattern, CancellationToken cancellationToken)
    {
        await EnsureTappingAsync(cancellationToken).ConfigureAwait(false);
        return _tap.ReadLatest(max, pattern);
    }

    public override async Task<EventDetail?> GetEventAsync(string id, CancellationToken cancellationToken)
    {
        if (_tap.Find(id) is not { } found)
        {
            return null;
        }

        TopologyView topology = await GetTopologyAsync(cancellationToken).ConfigureAwait(false);
        var deliveries = new List<DeliveryView>();
        IReadOnlyList<DeadLetter> letters = await ListDeadLettersAsync(TopicPattern.Parse(found.Envelope.Type), 10_000, cancellationToken).ConfigureAwait(false);
        foreach (GroupView group in topology.ConsumersOf(found.Envelope.Type))
        {
            deliveries.Add(letters.FirstOrDefault(l => l.Envelope.Id == id && l.Consumer == group.Name) is { } letter
                ? new DeliveryView(group.Name, "dead-lettered", letter.Attempts, letter.Reason)
                : new DeliveryView(group.Name, "routed", null, $"queue {_options.QueuePrefix}{group.Name}: {group.Depth} waiting"));
        }

        return new EventDetail(found, deliveries);
    }

    public override Task PublishAsync(Envelope envelope, CancellationToken cancellationToken) => _bus.PublishAsync(envelope, cancellationToken).AsTask();

    public override async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(TopicPattern? pattern, int max, CancellationToken cancellationToken)
    {
        await RefreshGroupsAsync(cancellationToken).ConfigureAwait(false);
        return await _deadLetters.ListAsync(pattern, max, cancellationToken).ConfigureAwait(false);
    }

    public override async Task<DeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken)
    {
        await RefreshGroupsAsync(cancellationToken).ConfigureAwait(false);
        return await _deadLetters.GetAsync(id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Puts the event back into the group's own queue (a first attempt), then removes it from the dead letters.</summary>
    public override async Task<bool> RedriveAsync(string id, CancellationToken cancellationToken)
    {
        await RefreshGroupsAsync(cancellationToken).ConfigureAwait(false);
        if (await _deadLetters.GroupOfAsync(id, cancellationToken).ConfigureAwait(false) is not { } group
            || await _deadLetters.GetAsync(id, cancellationToken).ConfigureAwait(false) is not { } letter)
        {
            return false;
        }

        await _transport.PublishToQueueAsync(_options.QueuePrefix + group, letter.Envelope.WithAttempt(1), cancellationToken).ConfigureAwait(false);
        return await _deadLetters.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public override async Task<bool> PurgeAsync(string id, CancellationToken cancellationToken)
    {
        await RefreshGroupsAsync(cancellationToken).ConfigureAwait(false);
        return await _deadLetters.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public override async Task<TopologyView> GetTopologyAsync(CancellationToken cancellationToken)
    {
        await RefreshGroupsAsync(cancellationToken).ConfigureAwait(false);
        var groups = new List<GroupView>();
        IChannel channel = await _transport.CreateChannelAsync(cancellationToken).ConfigureAwait(false);
        await using (channel.ConfigureAwait(false))
        {
            foreach (string group in _groups)
            {
                string queue = _options.QueuePrefix + group;
                IReadOnlyList<string> patterns = await _management.BindingsAsync(queue, _options.Exchange, cancellationToken).ConfigureAwait(false);
                QueueDeclareOk depth = await channel.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false);
                QueueDeclareOk dead = await channel.QueueDeclarePassiveAsync(_deadLetters.DeadLetterQueue(group), cancellationToken).ConfigureAwait(false);
                groups.Add(new GroupView(group, depth.MessageCount, null, null, [.. patterns.Select(p => new MemberView(group, p, null))], new Dictionary<string, long>())
                {
                    Details = new Dictionary<string, string>
                    {
                        ["queue"] = queue,
                        ["consumers"] = depth.ConsumerCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["dead letters"] = dead.MessageCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    },
                });
            }
        }

        return new TopologyView(_tap.Topics(), groups);
    }

    public override async Task<Counters> ReadCountersAsync(CancellationToken cancellationToken)
    {
        long published = await _management.CounterAsync("exchanges", _options.Exchange, "publish_in", cancellationToken).ConfigureAwait(false);
        long handled = 0;
        foreach (string group in _groups)
        {
            handled += await _management.CounterAsync("queues", _options.QueuePrefix + group, "ack", cancellationToken).ConfigureAwait(false);
        }

        return new Counters(published, handled, []);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_tapChannel is not null)
        {
            await _tapChannel.DisposeAsync().ConfigureAwait(false);
        }

        _management.Dispose();
        _tapping.Dispose();
        await _bus.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Herald's groups: the queues with the prefix, less their dead-letter and retry queues.</summary>
    private async Task RefreshGroupsAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> queues = await _management.QueuesAsync(cancellationToken).ConfigureAwait(false);
        _groups = [.. queues
            .Where(q => q.StartsWith(_options.QueuePrefix, StringComparison.Ordinal) && !q.EndsWith(".dead-letter", StringComparison.Ordinal) && !RetryQueue().IsMatch(q))
            .Select(q => q[_options.QueuePrefix.Length..])];
    }

    /// <summary>Binds a private, exclusive, auto-deleted queue to every topic of the exchange and keeps what passes in the tap.</summary>
    private async Task EnsureTappingAsync(CancellationToken cancellationToken)
    {
        if (_tapChannel is not null)
        {
            return;
        }

        await _tapping.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_tapChannel is not null)
            {
                return;
            }

            IChannel channel = await _transport.CreateChannelAsync(cancellationToken).ConfigureAwait(false);
            QueueDeclareOk queue = await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            await channel.QueueBindAsync(queue.QueueName, _options.Exchange, "#", cancellationToken: cancellationToken).ConfigureAwait(false);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, message) =>
            {
                Envelope envelope;
                try
                {
                    envelope = AmqpCloudEvents.Decode(message.BasicProperties, message.Body.ToArray(), TimeProvider.System.GetUtcNow());
                }
                catch (EventDecodingException ex)
                {
                    envelope = Envelope.Undecodable(message.RoutingKey, message.Body.ToArray(), TimeProvider.System.GetUtcNow(), ex.Message);
                }

                _tap.Add(envelope);
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer, cancellationToken).ConfigureAwait(false);
            _tapChannel = channel;
        }
        finally
        {
            _tapping.Release();
        }
    }

    [GeneratedRegex(@"\.retry\.\d+$")]
    private static partial Regex RetryQueue();
}
