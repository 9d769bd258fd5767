namespace Herald.RabbitMQ;

/// <summary>The broker did not take a published event: it refused it (nack), returned it as unroutable, or did not confirm it in time.</summary>
public sealed class BrokerPublishException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BrokerPublishException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
