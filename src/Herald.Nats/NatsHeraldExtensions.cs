using Herald.Nats;
using Microsoft.Extensions.DependencyInjection;

namespace Herald;

/// <summary>Puts Herald's bus on NATS JetStream.</summary>
public static class NatsHeraldExtensions
{
    /// <summary>Makes the bus publish to and consume from the JetStream server <paramref name="nats"/> names.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static EventBusOptions UseNats(this EventBusOptions options, NatsOptions nats)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(nats);
        nats.Validate();
        options.TransportFactory = context => new NatsTransport(nats, context);
        return options;
    }

    /// <summary>
    /// Runs the bus on NATS JetStream: <c>h.UseNats("nats://127.0.0.1:4222")</c>; the handlers stay as they are. Events
    /// go to the stream <see cref="NatsOptions.Stream"/>, dead letters to its <c>_DEAD_LETTERS</c> stream, where
    /// <see cref="DeadLetters"/> lists and redrives them.
    /// </summary>
    public static HeraldBuilder UseNats(this HeraldBuilder builder, string url, Action<NatsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new NatsOptions { Url = url };
        configure?.Invoke(options);
        builder.Bus.UseNats(options);
        builder.Services.AddSingleton<IDeadLetterStore>(sp => new NatsDeadLetterStore(sp));
        return builder;
    }
}
