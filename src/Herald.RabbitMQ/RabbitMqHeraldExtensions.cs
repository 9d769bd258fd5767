using Microsoft.Extensions.DependencyInjection;
using Herald.RabbitMQ;

namespace Herald;

/// <summary>Puts Herald's bus on RabbitMQ.</summary>
public static class RabbitMqHeraldExtensions
{
    /// <summary>Makes the bus publish to and consume from the broker <paramref name="rabbitMq"/> names.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static EventBusOptions UseRabbitMQ(this EventBusOptions options, RabbitMqOptions rabbitMq)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rabbitMq);
        rabbitMq.Validate();
        options.TransportFactory = context => new RabbitMqTransport(rabbitMq, context);
        return options;
    }

    /// <summary>
    /// Runs the bus on RabbitMQ: <c>h.UseRabbitMQ("amqp://127.0.0.1:5672")</c>; the handlers stay as they are. Dead letters
    /// go to each group's <c>{queue}.dead-letter</c> queue, and <see cref="DeadLetters"/> lists and redrives them there.
    /// </summary>
    public static HeraldBuilder UseRabbitMQ(this HeraldBuilder builder, string uri, Action<RabbitMqOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new RabbitMqOptions { Uri = uri };
        configure?.Invoke(options);
        builder.Bus.UseRabbitMQ(options);
        builder.Services.AddSingleton<IDeadLetterStore>(sp => new RabbitMqDeadLetterStore(sp, options)); // {group}.dead-letter queues
        return builder;
    }
}
