using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Sqlite;

/// <summary>
/// Forwards every event of a SQLite bus's log to another bus (another transport: a broker, another process's bus),
/// in log order and at least once: an event is acknowledged (and the relay's checkpoint moves past it) only after the
/// target accepted it, so a crash or a failing target means it is forwarded again later. Envelopes keep their ids,
/// so the target's consumers skip a re-forwarded event through their inbox.
/// </summary>
/// <remarks>
/// Write with <c>PublishOptions.Transaction</c> on the SQLite bus (the outbox), run the relay, and consumers on the
/// target receive the events that committed, in the order they committed.
/// </remarks>
public sealed class SqliteOutboxRelay
{
    private readonly EventBus _source;
    private readonly EventBus _target;
    private readonly ILogger _logger;

    /// <summary>Creates a relay from <paramref name="source"/> (a bus on SQLite) to <paramref name="target"/>.</summary>
    /// <param name="source">The bus whose log is forwarded.</param>
    /// <param name="target">The bus the events are published to.</param>
    /// <param name="name">The relay's consumer group in the log (its checkpoint). Default <c>outbox-relay</c>.</param>
    /// <param name="logger">Where failures of the target are logged.</param>
    public SqliteOutboxRelay(EventBus source, EventBus target, string name = "outbox-relay", ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (ReferenceEquals(source, target))
        {
            throw new ArgumentException("The outbox relay's target must be another bus than its source: forwarding a log into itself never ends.", nameof(target));
        }

        _source = source;
        _target = target;
        Name = name;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The relay's consumer group name.</summary>
    public string Name { get; }

    /// <summary>How long the relay waits before forwarding again after the target failed. Default 1 s.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Events forwarded by this instance.</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    private long _forwarded;

    /// <summary>Forwards events until <paramref name="cancellationToken"/> fires; a failing target is retried (from the first unforwarded event) after <see cref="RetryDelay"/>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Subscription<object> log = _source.Subscribe("#", new SubscriptionOptions { Name = Name, Group = Name, Capacity = 256 });
            await using (log.ConfigureAwait(false))
            {
                try
                {
                    await log.ConsumeAsync(
                        async (e, ct) =>
                        {
                            await _target.PublishAsync(e.Envelope, ct).ConfigureAwait(false);
                            Interlocked.Increment(ref _forwarded);
                        },
                        cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
                {
                    SqliteLog.RelayFailed(_logger, ex, Name);
                }
            }

            // The subscription is gone with its unacknowledged event: the next one starts again from the checkpoint.
            await Task.Delay(RetryDelay, _source.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }
}
