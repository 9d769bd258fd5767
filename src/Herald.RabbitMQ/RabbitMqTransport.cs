using Herald.Transport;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Herald.RabbitMQ;

/// <summary>
/// The bus on RabbitMQ: one topic exchange (routing key = topic, so Herald patterns are binding keys as they are), one
/// durable queue per consumer group bound for its pattern, publisher confirms (a publish completes when the broker
/// confirmed it), manual acknowledgements after the handler pipeline. See docs/rabbitmq.md.
/// </summary>
/// <remarks>
/// The connection is made on first use (a publish, a subscription), not when the bus is built, and is bounded by
/// <see cref="RabbitMqOptions.ConnectTimeout"/> and the caller's token: a server that accepts TCP and never speaks AMQP
/// fails the start with a clear exception instead of hanging it.
/// </remarks>
internal sealed class RabbitMqTransport : ITransport
{
    private readonly RabbitMqOptions _options;
    private readonly TransportContext _context;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly PublishDeadlines _deadlines;
    private readonly List<RabbitMqConsumer> _consumers = [];
    private readonly Lock _lock = new();
    private IConnection? _connection;
    private IChannel? _publisher;
    private bool _disposed;

    public RabbitMqTransport(RabbitMqOptions options, TransportContext context)
    {
        options.Validate();
        _options = options;
        _context = context;
        Logger = context.Logger;
        Time = context.TimeProvider;
        _deadlines = new PublishDeadlines(_options.PublishTimeout, Time);
    }

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    public RabbitMqOptions Options => _options;

    public async ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        (BasicProperties properties, ReadOnlyMemory<byte> body) = AmqpCloudEvents.Encode(envelope, _options.Serializer);
        try
        {
            // Always mandatory: the broker returns what no queue is bound for, so it is never discarded uncounted.
            await PublishAsync(_options.Exchange, envelope.Type, properties, body, Describe(envelope), cancellationToken, mandatory: true).ConfigureAwait(false);
        }
        catch (BrokerPublishException ex) when (ex.IsUnroutable && !_options.Mandatory)
        {
            // Nobody subscribes to the topic: accepted, as on every transport, and counted, logged and metered as unrouted.
            _context.ReportUnrouted(envelope);
        }
    }

    /// <summary>Opens a channel on the connection, connecting first if needed (bounded by <see cref="RabbitMqOptions.ConnectTimeout"/>).</summary>
    public async ValueTask<IChannel> CreateChannelAsync(CancellationToken cancellationToken)
    {
        (IConnection connection, _) = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The connection and the confirming publisher channel, made once (the exchange declared), within the connect timeout.</summary>
    /// <exception cref="TimeoutException">The broker did not complete the connection within <see cref="RabbitMqOptions.ConnectTimeout"/>.</exception>
    public async ValueTask<(IConnection Connection, IChannel Publisher)> ConnectAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _publisher) is { } ready)
        {
            return (_connection!, ready);
        }

        using var timeout = new CancellationTokenSource(_options.ConnectTimeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await _connecting.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_publisher is null)
                {
                    var factory = new ConnectionFactory
                    {
                        Uri = new Uri(_options.Uri),
                        AutomaticRecoveryEnabled = true,
                        TopologyRecoveryEnabled = true,
                        NetworkRecoveryInterval = _options.RecoveryInterval,
                        RequestedConnectionTimeout = _options.ConnectTimeout,
                        HandshakeContinuationTimeout = _options.ConnectTimeout,
                        ClientProvidedName = "herald",
                    };
                    IConnection connection = await factory.CreateConnectionAsync(linked.Token).ConfigureAwait(false);
                    try
                    {
                        IChannel publisher = await connection.CreateChannelAsync(
                            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), linked.Token).ConfigureAwait(false);
                        await publisher.ExchangeDeclareAsync(_options.Exchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: linked.Token).ConfigureAwait(false);
                        _connection = connection;
                        Volatile.Write(ref _publisher, publisher);
                    }
                    catch
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                        throw;
                    }
                }

                return (_connection!, _publisher);
            }
            finally
            {
                _connecting.Release();
            }
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"RabbitMQ at {Endpoint} did not complete the connection within {_options.ConnectTimeout.TotalSeconds:0.#} s (RabbitMqOptions.ConnectTimeout): "
                + "is it a RabbitMQ broker, and is it answering?", ex);
        }
    }

    /// <summary>The broker's host and port (the URI without its credentials), for messages.</summary>
    private string Endpoint => new Uri(_options.Uri) is var uri ? $"{uri.Host}:{(uri.IsDefaultPort ? 5672 : uri.Port)}" : _options.Uri;

    /// <summary>
    /// Publishes to one queue only (through the default exchange): a dead-letter redrive to a group's queue, or a retry
    /// into a delay queue with <paramref name="expiration"/> as the message's TTL.
    /// </summary>
    public async ValueTask PublishToQueueAsync(
        string queue, Envelope envelope, CancellationToken cancellationToken, TimeSpan? expiration = null, IReadOnlyDictionary<string, object?>? extraHeaders = null)
    {
        (BasicProperties properties, ReadOnlyMemory<byte> body) = AmqpCloudEvents.Encode(envelope, _options.Serializer);
        foreach (KeyValuePair<string, object?> header in extraHeaders ?? new Dictionary<string, object?>())
        {
            properties.Headers![header.Key] = header.Value;
        }

        if (expiration is { } ttl)
        {
            properties.Expiration = Math.Max(1, (long)Math.Ceiling(ttl.TotalMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await PublishAsync(string.Empty, queue, properties, body, Describe(envelope), cancellationToken, mandatory: true).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes prepared bytes to one queue (a poison message to its dead-letter queue, as it came) and completes when
    /// the broker confirmed it; a missing queue or a refusal throws.
    /// </summary>
    public ValueTask PublishConfirmedAsync(string queue, BasicProperties properties, ReadOnlyMemory<byte> body, string what, CancellationToken cancellationToken) =>
        PublishAsync(string.Empty, queue, properties, body, what, cancellationToken, mandatory: true);

    public async ValueTask<IConsumer> SubscribeAsync(ConsumerSpec spec, CancellationToken cancellationToken)
    {
        if (spec.Overflow != Overflow.Wait)
        {
            // A group's queue is the broker's: a publish is confirmed whatever the consumers do and never waits for them.
            // The broker's own length limits would drop or refuse for every member of the group, uncounted by Herald.
            throw new NotSupportedException(
                $"Consumer '{spec.Name}' asks for Overflow.{spec.Overflow}, which the RabbitMQ transport cannot honour: its group's queue on the broker "
                + "keeps every event until a member takes it, and a publish never waits for a consumer (Overflow.Wait, the default, is what it does). "
                + "Remove the Overflow setting for this consumer, or limit the queue with a broker policy (x-max-length) and its dead-lettering.");
        }

        string queue = _options.QueuePrefix + spec.GroupName;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
        }

        IChannel channel = await CreateChannelAsync(cancellationToken).ConfigureAwait(false);
        RabbitMqConsumer consumer = await RabbitMqConsumer.StartAsync(this, channel, spec, queue, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            _consumers.Add(consumer);
        }

        return consumer;
    }

    /// <summary>The delivery limit declared on quorum queues: far beyond any attempt count Herald makes.</summary>
    public const int QuorumDeliveryLimit = 1_000_000;

    /// <summary>
    /// The arguments of a group's queue. An ordered group's queue has a single active consumer: the broker delivers to
    /// one consumer at a time (the others wait as standbys), so the queue's order, and each key's, is kept across
    /// processes; within that consumer, keys go to lanes and each key's events are handled in order.
    /// </summary>
    public Dictionary<string, object?> QueueArguments(bool ordered = false)
    {
        var arguments = new Dictionary<string, object?> { ["x-queue-type"] = _options.QueueType == RabbitMqQueueType.Quorum ? "quorum" : "classic" };
        if (_options.QueueType == RabbitMqQueueType.Quorum)
        {
            // Herald counts attempts itself and dead-letters with the reason. From RabbitMQ 4.0 a quorum queue without a
            // limit gets one of 20 deliveries and then drops the message (no dead-letter exchange here): a dead letter
            // browsed 20 times, or an event retried 20 times, would vanish. The broker's limit is set out of the way.
            arguments["x-delivery-limit"] = QuorumDeliveryLimit;
        }

        if (ordered)
        {
            arguments["x-single-active-consumer"] = true;
        }

        return arguments;
    }

    private static string Describe(Envelope envelope) => $"event {envelope.Id} ('{envelope.Type}')";

    public void Forget(RabbitMqConsumer consumer)
    {
        lock (_lock)
        {
            _consumers.Remove(consumer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        RabbitMqConsumer[] consumers;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            consumers = [.. _consumers];
        }

        foreach (RabbitMqConsumer consumer in consumers)
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
        }

        await _connecting.WaitAsync().ConfigureAwait(false); // a connect in progress finishes (bounded by its timeout) first
        try
        {
            if (_publisher is not null)
            {
                await _publisher.DisposeAsync().ConfigureAwait(false);
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _connecting.Release();
        }
    }

    // mandatory: whether an unroutable message fails (the broker returns it); always for Herald's own publishes to a
    // named queue (retries, redrives, dead letters): a missing queue must be an error, never a silent loss.
    private async ValueTask PublishAsync(
        string exchange, string routingKey, BasicProperties properties, ReadOnlyMemory<byte> body, string what, CancellationToken cancellationToken, bool? mandatory = null)
    {
        // The deadline's token is shared with the publishes that started in the same tenth of a second (no timer per
        // publish); linked to the caller's only when the caller's can be cancelled at all.
        CancellationToken deadline = _deadlines.Next();
        using CancellationTokenSource? linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline) : null;
        CancellationToken token = linked?.Token ?? deadline;
        try
        {
            while (true)
            {
                try
                {
                    (_, IChannel publisher) = await ConnectAsync(token).ConfigureAwait(false);
                    await publisher.BasicPublishAsync(exchange, routingKey, mandatory ?? _options.Mandatory, properties, body, token).ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (_options.WaitForConnection && ex is AlreadyClosedException or OperationInterruptedException or BrokerUnreachableException)
                {
                    // The connection is down and the caller asked to wait for it (bounded by the publish timeout): the
                    // client recovers it by itself; try again shortly. The same message (same id) is sent again.
                    await Task.Delay(TimeSpan.FromMilliseconds(100), Time, token).ConfigureAwait(false);
                }
            }
        }
        catch (PublishException ex)
        {
            throw new BrokerPublishException(
                ex.IsReturn
                    ? $"The broker returned {what} as unroutable: no queue is bound for it on exchange '{exchange}' (routing key '{routingKey}')."
                    : $"The broker refused {what} (nack).",
                ex);
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new BrokerPublishException(
                $"The broker did not confirm {what} within {_options.PublishTimeout.TotalSeconds:0.#} s (PublishTimeout"
                + $"{(_options.WaitForConnection ? ", waiting for the connection included" : string.Empty)}); it may or may not have been stored.", ex);
        }
        catch (TimeoutException ex)
        {
            throw new BrokerPublishException($"Not published, no connection to the broker: {what} ({ex.Message}).", ex);
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or BrokerUnreachableException)
        {
            throw new BrokerPublishException($"Not published, the connection to the broker is down: {what} ({ex.Message}).", ex);
        }
    }
}
