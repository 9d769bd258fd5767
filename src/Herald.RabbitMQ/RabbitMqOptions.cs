namespace Herald.RabbitMQ;

/// <summary>Options of Herald's RabbitMQ transport.</summary>
public sealed class RabbitMqOptions
{
    /// <summary>The broker, e.g. <c>amqp://user:password@127.0.0.1:5672/</c>. Required.</summary>
    public string Uri { get; set; } = "amqp://127.0.0.1:5672/";

    /// <summary>The topic exchange events are published to (routing key = topic). Default <c>herald</c>.</summary>
    public string Exchange { get; set; } = "herald";

    /// <summary>Prepended to every queue name (one queue per consumer group), to keep several applications apart on one broker.</summary>
    public string QueuePrefix { get; set; } = string.Empty;

    /// <summary>The kind of queue per consumer group. Default <see cref="RabbitMqQueueType.Quorum"/>.</summary>
    public RabbitMqQueueType QueueType { get; set; } = RabbitMqQueueType.Quorum;

    /// <summary>How long a publish waits for the broker's confirm before it fails (measured to a tenth of a second: it may fail up to 0.1 s later). Default 10 s.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether a publish that no queue is bound for fails with a <see cref="BrokerPublishException"/>
    /// (<see cref="BrokerPublishException.IsUnroutable"/>). Default false: such a publish is accepted, as on every
    /// transport, and counted in <c>EventBusStats.Unrouted</c>, metered (<c>herald.events.unrouted</c>) and logged; the
    /// broker is always asked to return it, so it never vanishes uncounted.
    /// </summary>
    public bool Mandatory { get; set; }

    /// <summary>
    /// How long connecting to the broker (TCP, the AMQP handshake, the exchange declaration) may take before the publish
    /// or subscription that needed it fails. Default 15 s.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// What a publish does while the connection to the broker is lost: false (the default) fails at once with a
    /// <see cref="BrokerPublishException"/>; true waits for the connection to come back and publishes then, up to
    /// <see cref="PublishTimeout"/> in all (then the exception). Never longer.
    /// </summary>
    public bool WaitForConnection { get; set; }

    /// <summary>How long the client waits between attempts to reconnect after losing the broker. Default 5 s.</summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The serializer of event payloads. Default System.Text.Json.</summary>
    public IEventSerializer Serializer { get; set; } = SystemTextJsonEventSerializer.CreateDefault();

    internal void Validate()
    {
        if (!System.Uri.TryCreate(Uri, UriKind.Absolute, out Uri? uri) || (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
        {
            throw new ArgumentException($"RabbitMqOptions.Uri '{Redacted.Uri(Uri)}' is not an amqp:// or amqps:// URI.", nameof(Uri));
        }

        if (string.IsNullOrWhiteSpace(Exchange))
        {
            throw new ArgumentException("RabbitMqOptions.Exchange must not be empty.", nameof(Exchange));
        }

        if (PublishTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PublishTimeout), PublishTimeout, "RabbitMqOptions.PublishTimeout must be positive: a publish never waits forever.");
        }

        if (RecoveryInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RecoveryInterval), RecoveryInterval, "RabbitMqOptions.RecoveryInterval must be positive: it is the wait between reconnection attempts.");
        }

        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout == Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "RabbitMqOptions.ConnectTimeout must be positive and finite: a connect never waits forever.");
        }

        ArgumentNullException.ThrowIfNull(Serializer);
    }
}
