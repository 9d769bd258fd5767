namespace Herald;

/// <summary>Settings of one handler registration. Checked at startup; a bad value fails there, naming the handler.</summary>
public sealed class HandlerOptions
{
    /// <summary>The consumer name, used in logs, metrics, dead letters and the inbox. Default: the handler type's name.</summary>
    public string? Name { get; set; }

    /// <summary>The consumer group. Default: the consumer name, so each handler gets its own copy of every event.</summary>
    public string? Group { get; set; }

    /// <summary>How many deliveries run at once. Default 1.</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>
    /// Keep per-key order: events with the same <see cref="PublishOptions.Key"/> are handled one at a time, in publish
    /// order, while different keys run in parallel (up to <see cref="Concurrency"/>). Default false.
    /// </summary>
    public bool OrderedByKey { get; set; }

    /// <summary>How long one attempt may run before its token fires. Default 30 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>When and how often a failed attempt is tried again. Default <see cref="Herald.Retry.Default"/>: 3 attempts, exponential from 100 ms, with jitter.</summary>
    public RetryPolicy Retry { get; set; } = Herald.Retry.Default;

    /// <summary>How many events may wait for the handler (per lane when ordered). Default 1024.</summary>
    public int Capacity { get; set; } = 1024;

    /// <summary>What a publish does when the handler's queue is full. Default <see cref="Overflow.Wait"/>.</summary>
    public Overflow Overflow { get; set; } = Overflow.Wait;

    /// <summary>Skip an event id this consumer already handled (the inbox). Default true.</summary>
    public bool Idempotent { get; set; } = true;

    /// <summary>Throws an <see cref="InvalidOperationException"/> naming <paramref name="handler"/> and the problem.</summary>
    internal void Validate(string handler)
    {
        string? problem = Concurrency < 1 ? $"Concurrency is {Concurrency}; it must be at least 1"
            : Concurrency > 1024 ? $"Concurrency is {Concurrency}; at most 1024 deliveries may run at once"
            : Capacity < 1 ? $"Capacity is {Capacity}; it must be at least 1"
            : Timeout <= TimeSpan.Zero && Timeout != System.Threading.Timeout.InfiniteTimeSpan ? $"Timeout is {Timeout}; it must be positive"
            : Retry is null ? "Retry is null; use Retry.None for no retries"
            : !Enum.IsDefined(Overflow) ? $"Overflow {Overflow} is not a known policy"
            : Group is not null && string.IsNullOrWhiteSpace(Group) ? "Group is blank; leave it null for the default"
            : OrderedByKey && Overflow is Overflow.DropOldest or Overflow.DropNewest
                ? $"OrderedByKey is set with Overflow.{Overflow}: dropping events breaks the per-key order the handler asked for; use Wait or Reject"
            : null;
        if (problem is not null)
        {
            throw new InvalidOperationException($"Handler '{handler}' is misconfigured: {problem}.");
        }
    }
}
