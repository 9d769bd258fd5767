namespace Herald.RabbitMQ;

/// <summary>The broker did not take a published event: it refused it (nack), returned it as unroutable, or did not confirm it in time.</summary>
public sealed class BrokerPublishException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BrokerPublishException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// The broker returned the event because no queue is bound for its topic (only thrown when
    /// <see cref="RabbitMqOptions.Mandatory"/> is set, or for Herald's own publishes to a queue that is gone).
    /// </summary>
    public bool IsUnroutable => InnerException is global::RabbitMQ.Client.Exceptions.PublishException { IsReturn: true };
}
