using Herald.Dashboard.Systems;

namespace Herald.Cli;

/// <summary>A RabbitMQ broker as the operator sees it (filled in below).</summary>
internal static class RabbitMqSystem
{
    public static Task<HeraldSystem> OpenAsync(string uri, string exchange, string queuePrefix, string? management, CancellationToken cancellationToken) =>
        throw new CliException("RabbitMQ: not yet");
}
