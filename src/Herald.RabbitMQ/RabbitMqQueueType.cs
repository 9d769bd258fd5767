namespace Herald.RabbitMQ;

/// <summary>The kind of queue declared for each consumer group.</summary>
public enum RabbitMqQueueType
{
    /// <summary>Replicated, durable quorum queues (RabbitMQ's recommendation for data safety). The default.</summary>
    Quorum,

    /// <summary>Classic durable queues (one node; lighter).</summary>
    Classic,
}
