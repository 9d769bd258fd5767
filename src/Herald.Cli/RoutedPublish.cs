namespace Herald.Cli;

/// <summary>A publish from the command that must reach a consumer: an event the transport reports unrouted is an error, not a silent drop.</summary>
internal static class RoutedPublish
{
    /// <summary>Publishes <paramref name="envelope"/> through <paramref name="bus"/>; throws when no consumer group took it.</summary>
    /// <param name="bus">The command's bus on the system.</param>
    /// <param name="envelope">What to publish.</param>
    /// <param name="nobody">The error's message, naming the topic and what became of the event on this system.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <exception cref="CliException">No consumer group takes the event's topic.</exception>
    public static async Task PublishAsync(EventBus bus, Envelope envelope, string nobody, CancellationToken cancellationToken)
    {
        long unrouted = bus.Stats.Unrouted;
        await bus.PublishAsync(envelope, cancellationToken).ConfigureAwait(false);
        if (bus.Stats.Unrouted > unrouted)
        {
            throw new CliException(nobody);
        }
    }
}
