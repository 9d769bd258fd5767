using Herald.Diagnostics;
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
internal sealed class RabbitMqTransport : ITransport
{
    private readonly RabbitMqOptions _options;
    private readonly IConnection _connection;
    private readonly IChannel _publisher;
    private readonly List<RabbitMqConsumer> _consumers = [];
    private readonly Lock _lock = new();
    private bool _disposed;

#pragma warning disable VSTHRD002 // the bus is built synchronously (a constructor); connecting happens once, at start-up
    public RabbitMqTransport(RabbitMqOptions options, BusTelemetry telemetry)
    {
        options.Validate();
        _options = options;
        Logger = telemetry.Logger;
        Time = telemetry.TimeProvider;
        var factory = new ConnectionFactory
        {
            Uri = new Uri(options.Uri),
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = options.RecoveryInterval,
            ClientProvidedName = "herald",
        };
        _connection = factory.CreateConnectionAsync().GetAwaiter().GetResult();
        _publisher = _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)).GetAwaiter().GetResult();
        _publisher.ExchangeDeclareAsync(options.Exchange, ExchangeType.Topic, durable: true, autoDelete: false).GetAwaiter().GetResult();
    }
#pragma warning restore VSTHRD002

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    public IConnection Connection => _connection;

    public RabbitMqOptions Options => _options;

    public async ValueTask PublishAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        (BasicProperties properties, ReadOnlyMemory<byte> body) = AmqpCloudEvents.Encode(envelope, _options.Serializer);
        await PublishAsync(_options.Exchange, envelope.Type, properties, body, Describe(envelope), cancellationToken).ConfigureAwait(false);
    }

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

    public IConsumer Subscribe(ConsumerSpec spec)
    {
        string queue = _options.QueuePrefix + (spec.Group ?? spec.Name);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
        }

#pragma warning disable VSTHRD002 // registration is synchronous by contract: the queue is bound before Subscribe returns
        RabbitMqConsumer consumer = RabbitMqConsumer.StartAsync(this, spec, queue).GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
        lock (_lock)
        {
            _consumers.Add(consumer);
        }

        return consumer;
    }

    /// <summary>
    /// The arguments of a group's queue. An ordered group's queue has a single active consumer: the broker delivers to
    /// one consumer at a time (the others wait as standbys), so the queue's order, and each key's, is kept across
    /// processes; within that consumer, keys go to lanes and each key's events are handled in order.
    /// </summary>
    public Dictionary<string, object?> QueueArguments(bool ordered = false)
    {
        var arguments = new Dictionary<string, object?> { ["x-queue-type"] = _options.QueueType == RabbitMqQueueType.Quorum ? "quorum" : "classic" };
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

        await _publisher.DisposeAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    // mandatory: whether an unroutable message fails (the broker returns it); always for Herald's own publishes to a
    // named queue (retries, redrives, dead letters): a missing queue must be an error, never a silent loss.
    private async ValueTask PublishAsync(
        string exchange, string routingKey, BasicProperties properties, ReadOnlyMemory<byte> body, string what, CancellationToken cancellationToken, bool? mandatory = null)
    {
        using var timeout = new CancellationTokenSource(_options.PublishTimeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            while (true)
            {
                try
                {
                    await _publisher.BasicPublishAsync(exchange, routingKey, mandatory ?? _options.Mandatory, properties, body, linked.Token).ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (_options.WaitForConnection && ex is AlreadyClosedException or OperationInterruptedException or BrokerUnreachableException)
                {
                    // The connection is down and the caller asked to wait for it (bounded by the publish timeout): the
                    // client recovers it by itself; try again shortly. The same message (same id) is sent again.
                    await Task.Delay(TimeSpan.FromMilliseconds(100), Time, linked.Token).ConfigureAwait(false);
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
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new BrokerPublishException(
                $"The broker did not confirm {what} within {_options.PublishTimeout.TotalSeconds:0.#} s (PublishTimeout"
                + $"{(_options.WaitForConnection ? ", waiting for the connection included" : string.Empty)}); it may or may not have been stored.", ex);
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or BrokerUnreachableException)
        {
            throw new BrokerPublishException($"Not published, the connection to the broker is down: {what} ({ex.Message}).", ex);
        }
    }
}
