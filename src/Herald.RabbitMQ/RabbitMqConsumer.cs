using Herald.Transport;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Herald.RabbitMQ;

/// <summary>
/// One consumer on a group's queue: its own channel, a prefetch as large as its lanes, deliveries decoded into the
/// lanes its loops drain, acknowledged (or nacked back to the queue) when the pipeline is done. A message that is not
/// a CloudEvent Herald can read goes to <c>{queue}.dead-letter</c> with the reason in its headers.
/// </summary>
internal sealed class RabbitMqConsumer : LaneConsumer, IRedeliveryScheduler, IConsumerBacklog
{
    private readonly RabbitMqTransport _transport;
    private readonly IChannel _channel;
    private readonly string _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly CloudEventJsonFormatter _payloads;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _retryQueues = new(StringComparer.Ordinal);
    private int _disposed;
    private long _backlog;
    private Task _probe = Task.CompletedTask;

    /// <summary>How often the group's queue length is asked of the broker, for <see cref="Backlog"/>.</summary>
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    private RabbitMqConsumer(RabbitMqTransport transport, IChannel channel, ConsumerSpec spec, string queue)
        : base(spec)
    {
        _transport = transport;
        _channel = channel;
        _queue = queue;
        _payloads = new CloudEventJsonFormatter(transport.Options.Serializer);
    }

    /// <summary>Declares the group's queue (and its dead-letter queue), binds it for the pattern, and starts consuming.</summary>
    public static async Task<RabbitMqConsumer> StartAsync(RabbitMqTransport transport, IChannel channel, ConsumerSpec spec, string queue, CancellationToken cancellationToken)
    {
        try
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: transport.QueueArguments(spec.Ordered), cancellationToken: cancellationToken).ConfigureAwait(false);
            await channel.QueueDeclareAsync(queue + ".dead-letter", durable: true, exclusive: false, autoDelete: false, arguments: transport.QueueArguments(), cancellationToken: cancellationToken).ConfigureAwait(false);
            await channel.QueueBindAsync(queue, transport.Options.Exchange, spec.Pattern.Value, cancellationToken: cancellationToken).ConfigureAwait(false);
            await channel.BasicQosAsync(0, Prefetch(spec), global: false, cancellationToken).ConfigureAwait(false);
            var consumer = new RabbitMqConsumer(transport, channel, spec, queue);
            var basic = new AsyncEventingBasicConsumer(channel);
            basic.ReceivedAsync += consumer.OnReceivedAsync;
            await channel.BasicConsumeAsync(queue, autoAck: false, basic, cancellationToken).ConfigureAwait(false);
            consumer._probe = Task.Run(consumer.ProbeLoopAsync, CancellationToken.None);
            return consumer;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 406 && ex.Message.Contains("x-delivery-limit", StringComparison.Ordinal))
        {
            await channel.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException(
                $"The queue '{queue}' (or its dead-letter queue) exists without the delivery limit Herald declares on quorum queues " +
                $"(x-delivery-limit {RabbitMqTransport.QuorumDeliveryLimit}; without one RabbitMQ 4 drops a message after 20 deliveries). " +
                "Recreate the queue once it is drained, or move its messages with a shovel: see docs/rabbitmq.md.", ex);
        }
        catch
        {
            await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The broker's prefetch for a consumer: ten unacknowledged messages per delivery loop (at least 16), so every loop
    /// has its next event at hand without one consumer hoarding a queue its group's other members could drain; never
    /// more than the lanes hold.
    /// </summary>
    internal static ushort Prefetch(ConsumerSpec spec) =>
        (ushort)Math.Clamp(Math.Min(Math.Max(16, spec.Concurrency * 10), spec.Capacity * spec.Lanes), 1, ushort.MaxValue);

    /// <summary>A redrive goes to this group's queue only.</summary>
    public override ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken) =>
        _transport.PublishToQueueAsync(_queue, envelope, cancellationToken);

    /// <summary>
    /// A retry through the broker: the event (carrying its next attempt number) goes to the delay queue of that attempt,
    /// <c>{queue}.retry.{attempt}</c>, with the delay as its TTL; when it expires the broker dead-letters it back into
    /// the group's queue. One queue per attempt keeps similar delays together (a queue expires messages at its head).
    /// It survives a broker or consumer restart like any message in a durable queue.
    /// </summary>
    public async ValueTask ScheduleRedeliveryAsync(Envelope envelope, DateTimeOffset due, CancellationToken cancellationToken)
    {
        string retryQueue = $"{_queue}.retry.{envelope.Attempt}";

        // Every loop waits for the queue's declaration: publishing before it exists would be unroutable. (Two loops may
        // both declare it at first; declaring is idempotent.)
        Task declared = _retryQueues.GetOrAdd(retryQueue, DeclareRetryQueueAsync);
#pragma warning disable VSTHRD003 // this consumer's own declaration task, shared by its loops
        await declared.WaitAsync(cancellationToken).ConfigureAwait(false);
#pragma warning restore VSTHRD003

        TimeSpan delay = due - _transport.Time.GetUtcNow();
        await _transport.PublishToQueueAsync(retryQueue, envelope, cancellationToken, delay > TimeSpan.Zero ? delay : TimeSpan.Zero).ConfigureAwait(false);
    }

    private async Task DeclareRetryQueueAsync(string retryQueue)
    {
        var arguments = new Dictionary<string, object?>
        {
            ["x-queue-type"] = "classic",
            ["x-dead-letter-exchange"] = string.Empty,
            ["x-dead-letter-routing-key"] = _queue,
        };
        try
        {
            await _channel.QueueDeclareAsync(retryQueue, durable: true, exclusive: false, autoDelete: false, arguments: arguments).ConfigureAwait(false);
        }
        catch
        {
            _retryQueues.TryRemove(retryQueue, out _); // declare again next time
            throw;
        }
    }

    public override ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken) =>
        SettleTagAsync((ulong)delivery.Tag, kind, cancellationToken);

    private async ValueTask SettleTagAsync(ulong tag, SettleKind kind, CancellationToken cancellationToken)
    {
        try
        {
            if (kind == SettleKind.Ack)
            {
                await _channel.BasicAckAsync(tag, multiple: false, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Requeue and release alike go back to the queue: the broker delivers them again (here or to another member).
                await _channel.BasicNackAsync(tag, multiple: false, requeue: true, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException)
        {
            // The channel closed under the delivery (a lost connection): the broker delivers it again, and the inbox
            // skips it if it was handled. A failed acknowledgement must not end the consumer's loop.
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
#pragma warning disable VSTHRD003 // this consumer's own probe loop, started in StartAsync
        await _probe.ConfigureAwait(false);
#pragma warning restore VSTHRD003
        Lanes.Complete();
        _transport.Forget(this);
        await _channel.DisposeAsync().ConfigureAwait(false); // unacknowledged deliveries go back to the queue
        _stop.Dispose();
    }

    /// <summary>The group's messages ready in the broker's queue (not yet sent to any member), as of the last probe (every second).</summary>
    public long Backlog => Interlocked.Read(ref _backlog);

    public override string ToString() => $"{Name} ({Spec.Pattern}, queue {_queue}, RabbitMQ)";

    /// <summary>Asks the broker for the queue's ready messages every <see cref="ProbeInterval"/>, until the consumer stops.</summary>
    private async Task ProbeLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                Interlocked.Exchange(ref _backlog, await _channel.MessageCountAsync(_queue, stop).ConfigureAwait(false));
                await Task.Delay(ProbeInterval, _transport.Time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException)
            {
                // The channel is down (a lost connection; the client recovers it): keep the last value, ask again later.
                await Task.Delay(ProbeInterval, _transport.Time, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task OnReceivedAsync(object sender, BasicDeliverEventArgs args)
    {
        byte[] body = args.Body.ToArray(); // the client reuses its buffer after this handler returns
        Envelope envelope;
        try
        {
            envelope = AmqpCloudEvents.Decode(args.BasicProperties, body, _transport.Time.GetUtcNow());
            if (Spec.EventType is { } type && type != typeof(object))
            {
                envelope = envelope.WithData(_payloads.DecodeData(envelope, type));
            }
            else if (Topic.TryGetType(envelope.Type, out Type? known))
            {
                envelope = envelope.WithData(_payloads.DecodeUntyped(envelope, known));
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Poison of any kind (not a CloudEvent, a malformed attribute, a payload its type refuses): dead-lettered
            // with its reason, so it never sits unsettled in the prefetch window and the consumer carries on.
            await DeadLetterAsync(args, body, ex).ConfigureAwait(false);
            return;
        }

        try
        {
            await Lanes.WriteAsync(envelope, (long)args.DeliveryTag, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // stopping: the unacknowledged delivery goes back to the queue when the channel closes
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            // the lanes were completed by disposal: the same
        }
    }

    /// <summary>
    /// A message no reader can use: to the dead-letter queue with the reason and its topic (the routing key it came
    /// with), and acknowledged only once the broker confirmed the dead letter; when that fails it goes back to the queue
    /// to be tried again, never lost between the two.
    /// </summary>
    private async Task DeadLetterAsync(BasicDeliverEventArgs args, byte[] body, Exception reason)
    {
        var headers = new Dictionary<string, object?>(args.BasicProperties.Headers ?? new Dictionary<string, object?>(), StringComparer.Ordinal)
        {
            [RabbitMqDeadLetterStore.IdHeader] = Guid.CreateVersion7().ToString(),
            [RabbitMqDeadLetterStore.TopicHeader] = args.RoutingKey,
            ["x-herald-reason"] = "poison",
            ["x-herald-time"] = _transport.Time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["x-herald-exception"] = reason.GetType().FullName,
            ["x-herald-message"] = reason.Message,
            ["x-herald-consumer"] = Name,
        };
        var properties = new BasicProperties(args.BasicProperties) { Headers = headers };
        try
        {
            await _transport.PublishConfirmedAsync(_queue + ".dead-letter", properties, body, $"a poison message on '{args.RoutingKey}'", _stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BrokerPublishException or OperationCanceledException)
        {
            RabbitMqLog.PoisonNotDeadLettered(_transport.Logger, ex, Name, args.RoutingKey);
            await SettleTagAsync(args.DeliveryTag, SettleKind.Requeue, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        RabbitMqLog.PoisonDeadLettered(_transport.Logger, Name, args.RoutingKey, reason.Message);
        await SettleTagAsync(args.DeliveryTag, SettleKind.Ack, CancellationToken.None).ConfigureAwait(false);
    }
}
