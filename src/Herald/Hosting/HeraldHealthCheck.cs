using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Herald;

/// <summary>
/// Herald's health: unhealthy when a consumer loop has died; degraded when a queue is above the high-water mark, its
/// oldest event is older than the threshold, events were dropped, or dead letters grew since the previous check.
/// Thresholds are in <see cref="HeraldHostOptions"/>.
/// </summary>
public sealed class HeraldHealthCheck : IHealthCheck
{
    private readonly Func<IReadOnlyList<ConsumerInfo>> _consumers;
    private readonly IDeadLetterStore _deadLetters;
    private readonly HeraldHostOptions _options;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, long> _droppedBefore = new(StringComparer.Ordinal);
    private long _deadLettersBefore = -1;

    internal HeraldHealthCheck(HandlerHost host, IDeadLetterStore deadLetters, HeraldHostOptions options)
        : this(() => host.Consumers, deadLetters, options)
    {
    }

    internal HeraldHealthCheck(Func<IReadOnlyList<ConsumerInfo>> consumers, IDeadLetterStore deadLetters, HeraldHostOptions options)
    {
        _consumers = consumers;
        _deadLetters = deadLetters;
        _options = options;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<ConsumerInfo> consumers = _consumers();
        long deadLetters = await _deadLetters.CountAsync(cancellationToken).ConfigureAwait(false);
        var data = new Dictionary<string, object> { ["dead_letters"] = deadLetters };
        var dead = new List<string>();
        var degraded = new List<string>();
        lock (_sync)
        {
            foreach (ConsumerInfo c in consumers)
            {
                string name = c.Handler.Name;
                data[$"{name}.queued"] = c.Queue.Queued;
                data[$"{name}.backlog"] = c.Backlog;
                if (c.Fault is not null)
                {
                    dead.Add($"'{name}' consumer loop died: {c.Fault.Message}");
                    continue;
                }

                int lanes = c.Handler.Options.OrderedByKey ? c.Handler.Options.Concurrency : 1;
                if (c.Queue.Queued + c.Backlog > _options.QueueHighWaterMark * c.Capacity * lanes)
                {
                    degraded.Add(c.Backlog > 0
                        ? $"'{name}' has {c.Queue.Queued + c.Backlog} events waiting ({c.Queue.Queued} of {c.Capacity * lanes} in its queue, {c.Backlog} in the transport)"
                        : $"'{name}' queue holds {c.Queue.Queued} of {c.Capacity * lanes}");
                }

                if (c.OldestQueuedAge > _options.MaxOldestEventAge)
                {
                    degraded.Add($"'{name}' oldest event waited {c.OldestQueuedAge.Value.TotalSeconds:0.#} s");
                }

                long dropped = c.Queue.Dropped;
                if (dropped > _droppedBefore.GetValueOrDefault(name))
                {
                    degraded.Add($"'{name}' dropped {dropped - _droppedBefore.GetValueOrDefault(name)} event(s)");
                }

                _droppedBefore[name] = dropped;
            }

            if (_deadLettersBefore >= 0 && deadLetters > _deadLettersBefore)
            {
                degraded.Add($"dead letters grew by {deadLetters - _deadLettersBefore}");
            }

            _deadLettersBefore = deadLetters;
        }

        return dead.Count > 0 ? HealthCheckResult.Unhealthy(string.Join("; ", dead.Concat(degraded)), data: data)
            : degraded.Count > 0 ? HealthCheckResult.Degraded(string.Join("; ", degraded), data: data)
            : HealthCheckResult.Healthy($"{consumers.Count} consumer(s) running", data);
    }
}
