namespace Herald;

/// <summary>Builds retry policies.</summary>
public static class Retry
{
    /// <summary>The default: 3 attempts, 100 ms then 200 ms, ±20% jitter, at most 10 s apart.</summary>
    public static RetryPolicy Default { get; } = Exponential(3, TimeSpan.FromMilliseconds(100));

    /// <summary>No retry: one attempt, then the dead letters.</summary>
    public static RetryPolicy None { get; } = new(1, TimeSpan.Zero, TimeSpan.Zero, 1, 0, null);

    /// <summary>Exponential backoff: <paramref name="initial"/>, then times <paramref name="factor"/> each retry, capped at <paramref name="max"/>, with ±<paramref name="jitter"/>.</summary>
    /// <param name="maxAttempts">Attempts in all, the first included.</param>
    /// <param name="initial">The delay before the first retry.</param>
    /// <param name="max">The longest delay; default 10 s (or <paramref name="initial"/> when larger).</param>
    /// <param name="factor">The growth per retry; default 2.</param>
    /// <param name="jitter">Random variation either way, 0 to 1; default 0.2.</param>
    public static RetryPolicy Exponential(int maxAttempts, TimeSpan initial, TimeSpan? max = null, double factor = 2, double jitter = 0.2)
    {
        TimeSpan cap = max ?? (initial > TimeSpan.FromSeconds(10) ? initial : TimeSpan.FromSeconds(10));
        return new RetryPolicy(maxAttempts, initial, cap, factor, jitter, null);
    }

    /// <summary>A fixed delay between attempts, without jitter.</summary>
    /// <param name="maxAttempts">Attempts in all, the first included.</param>
    /// <param name="delay">The delay before each retry.</param>
    public static RetryPolicy Fixed(int maxAttempts, TimeSpan delay) => new(maxAttempts, delay, delay, 1, 0, null);

    /// <summary>Retries at once, without delay.</summary>
    /// <param name="maxAttempts">Attempts in all, the first included.</param>
    public static RetryPolicy Immediate(int maxAttempts) => new(maxAttempts, TimeSpan.Zero, TimeSpan.Zero, 1, 0, null);
}
