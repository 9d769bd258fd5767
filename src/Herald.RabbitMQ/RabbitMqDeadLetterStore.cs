using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Herald.RabbitMQ;

/// <summary>
/// Dead letters in the broker: each consumer group's <c>{queue}.dead-letter</c> queue holds its dead letters as
/// messages (the envelope in CloudEvents binary mode, the reason in <c>x-herald-*</c> headers). Listing browses the
/// queues (messages are fetched unacknowledged and go back when the browsing channel closes); removing acknowledges
/// the one message. Meant for operators' volumes of dead letters, not for millions.
/// </summary>
/// <param name="transport">The transport whose connection browses the queues.</param>
/// <param name="groups">The consumer groups whose dead-letter queues to read (a host's own, or what the broker lists).</param>
/// <param name="groupOf">The group of a consumer (handler) name, for storing.</param>
/// <param name="options">The queue prefix and arguments.</param>
internal sealed class RabbitMqDeadLetterStore(Func<RabbitMqTransport> transport, Func<IEnumerable<string>> groups, Func<string, string> groupOf, RabbitMqOptions options) : IDeadLetterStore
{
    public const string IdHeader = "x-herald-dead-letter-id";

    /// <summary>The topic a dead letter was published on (its routing key), kept for messages that are not CloudEvents.</summary>
    public const string TopicHeader = "x-herald-topic";

    /// <summary>The store of a host: its handlers' groups.</summary>
    public RabbitMqDeadLetterStore(IServiceProvider services, RabbitMqOptions options)
        : this(
            () => (RabbitMqTransport)services.GetRequiredService<EventBus>().Transport,
            () => services.GetRequiredService<HandlerCatalog>().Handlers.Select(h => h.Descriptor.Group).Distinct(StringComparer.Ordinal),
            consumer => services.GetRequiredService<HandlerCatalog>().Handlers.FirstOrDefault(h => h.Descriptor.Name == consumer)?.Descriptor.Group ?? consumer,
            options)
    {
    }

    private RabbitMqTransport Transport => transport();

    /// <summary>The group whose dead-letter queue holds <paramref name="id"/>, or null.</summary>
    public async ValueTask<string?> GroupOfAsync(string id, CancellationToken cancellationToken)
    {
        foreach (string group in groups())
        {
            bool found = false;
            await BrowseAsync(DeadLetterQueue(group), (letter, _) =>
            {
                found = letter.Id == id;
                return !found;
            }, cancellationToken).ConfigureAwait(false);
            if (found)
            {
                return group;
            }
        }

        return null;
    }

    public async ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        string queue = QueueOf(deadLetter.Consumer);
        IChannel declaring = await Transport.CreateChannelAsync(cancellationToken).ConfigureAwait(false);
        await using (declaring.ConfigureAwait(false))
        {
            await declaring.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: Transport.QueueArguments(), cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var headers = new Dictionary<string, object?>
        {
            [IdHeader] = deadLetter.Id,
            ["x-herald-reason"] = deadLetter.Reason,
            ["x-herald-exception"] = deadLetter.ExceptionType,
            ["x-herald-message"] = deadLetter.ExceptionMessage,
            ["x-herald-consumer"] = deadLetter.Consumer,
            ["x-herald-attempts"] = deadLetter.Attempts,
            ["x-herald-time"] = deadLetter.Time.ToString("O", CultureInfo.InvariantCulture),
        };
        await Transport.PublishToQueueAsync(queue, deadLetter.Envelope, cancellationToken, extraHeaders: headers).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<DeadLetter>> ListAsync(TopicPattern? topic, int max, CancellationToken cancellationToken)
    {
        var found = new List<DeadLetter>();
        foreach (string queue in Queues())
        {
            await BrowseAsync(queue, (letter, _) =>
            {
                if (found.Count < max && (topic is null || topic.IsMatch(letter.Envelope.Type)))
                {
                    found.Add(letter);
                }

                return found.Count < max;
            }, cancellationToken).ConfigureAwait(false);
        }

        return found;
    }

    public async ValueTask<DeadLetter?> GetAsync(string id, CancellationToken cancellationToken)
    {
        DeadLetter? found = null;
        foreach (string queue in Queues())
        {
            await BrowseAsync(queue, (letter, _) =>
            {
                found = letter.Id == id ? letter : null;
                return found is null;
            }, cancellationToken).ConfigureAwait(false);
            if (found is not null)
            {
                break;
            }
        }

        return found;
    }

    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        long count = 0;
        IChannel channel = await Transport.CreateChannelAsync(cancellationToken).ConfigureAwait(false);
        await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable closing = channel.ConfigureAwait(false);
        foreach (string queue in Queues())
        {
            count += (await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: Transport.QueueArguments(), cancellationToken: cancellationToken).ConfigureAwait(false)).MessageCount;
        }

        return count;
    }

    public async ValueTask<bool> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        bool removed = false;
        foreach (string queue in Queues())
        {
            await BrowseAsync(queue, (letter, ack) =>
            {
                removed = letter.Id == id;
                if (removed)
                {
                    ack();
                }

                return !removed;
            }, cancellationToken).ConfigureAwait(false);
            if (removed)
            {
                break;
            }
        }

        return removed;
    }

    /// <summary>The dead-letter queue of every consumer group.</summary>
    private IEnumerable<string> Queues() => groups().Select(DeadLetterQueue).Distinct(StringComparer.Ordinal);

    private string QueueOf(string consumer) => DeadLetterQueue(groupOf(consumer));

    /// <summary>The queue that holds a group's dead letters.</summary>
    public string DeadLetterQueue(string group) => options.QueuePrefix + group + ".dead-letter";

    /// <summary>
    /// Fetches the queue's messages unacknowledged, one by one, while <paramref name="visit"/> says go on; the ones not
    /// acknowledged through the callback go back to the queue when the channel closes.
    /// </summary>
    private async Task BrowseAsync(string queue, Func<DeadLetter, Action, bool> visit, CancellationToken cancellationToken)
    {
        IChannel channel = await Transport.CreateChannelAsync(cancellationToken).ConfigureAwait(false);
        await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable closing = channel.ConfigureAwait(false);
        uint before = (await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: Transport.QueueArguments(), cancellationToken: cancellationToken).ConfigureAwait(false)).MessageCount;
        var lookedAt = new List<ulong>();
        uint removed = 0;
        while (await channel.BasicGetAsync(queue, autoAck: false, cancellationToken).ConfigureAwait(false) is { } message)
        {
            ulong tag = message.DeliveryTag;
            bool acked = false;
            bool more = visit(Read(message), () => acked = true);
            if (acked)
            {
                await channel.BasicAckAsync(tag, multiple: false, cancellationToken).ConfigureAwait(false);
                removed++;
            }
            else
            {
                lookedAt.Add(tag);
            }

            if (!more)
            {
                break;
            }
        }

        if (lookedAt.Count > 0)
        {
            // Give back what was only looked at, and wait (briefly) until the queue counts it again: the broker requeues
            // asynchronously, and a count or a browse right after must not miss a dead letter that is still there.
            foreach (ulong tag in lookedAt)
            {
                await channel.BasicNackAsync(tag, multiple: false, requeue: true, cancellationToken).ConfigureAwait(false);
            }

            long deadline = Transport.Time.GetTimestamp() + Transport.Time.TimestampFrequency * 2;
            while ((await channel.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false)).MessageCount < (long)before - removed
                && Transport.Time.GetTimestamp() < deadline)
            {
                await Task.Delay(5, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private DeadLetter Read(BasicGetResult message)
    {
        IDictionary<string, object?> headers = message.BasicProperties.Headers ?? new Dictionary<string, object?>();
        string? Header(string name) => headers.TryGetValue(name, out object? value) && value is not null
            ? value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : Convert.ToString(value, CultureInfo.InvariantCulture)
            : null;

        Envelope envelope;
        try
        {
            envelope = AmqpCloudEvents.Decode(message.BasicProperties, message.Body.ToArray(), Transport.Time.GetUtcNow());
        }
        catch (EventDecodingException)
        {
            // Not a CloudEvent (that is why it is here): keep its bytes as the payload, under the topic it came with.
            envelope = Envelope.Undecodable(Header(TopicHeader) ?? message.RoutingKey, message.Body.ToArray(), Transport.Time.GetUtcNow());
        }

        return new DeadLetter(
            Header(IdHeader) ?? message.BasicProperties.MessageId ?? envelope.Id,
            envelope,
            Header("x-herald-consumer") ?? "unknown",
            Header("x-herald-reason") ?? "failed",
            Header("x-herald-exception"),
            Header("x-herald-message"),
            int.TryParse(Header("x-herald-attempts"), CultureInfo.InvariantCulture, out int attempts) ? attempts : 1,
            DateTimeOffset.TryParse(Header("x-herald-time"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTimeOffset time) ? time : envelope.Time);
    }
}
