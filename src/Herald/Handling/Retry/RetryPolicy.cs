namespace Herald;

/// <summary>
/// When a failed attempt is tried again: how many attempts in all, the delay before each retry (exponential with
/// jitter, capped), and which exceptions are worth retrying. Build one with <see cref="Retry"/>.
/// </summary>
public sealed class RetryPolicy
{
    internal RetryPolicy(int maxAttempts, TimeSpan initialDelay, TimeSpan maxDelay, double factor, double jitter, Func<Exception, bool>? retryable)
    {
        if (maxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxAttempts), maxAttempts, "A retry policy needs at least one attempt (1 means no retry).");
        }

        if (initialDelay < TimeSpan.Zero || maxDelay < initialDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDelay), maxDelay, $"Retry delays must be non-negative with maxDelay ({maxDelay}) >= initial ({initialDelay}).");
        }

        if (factor < 1 || jitter is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "Retry factor must be >= 1 and jitter between 0 and 1.");
        }

        MaxAttempts = maxAttempts;
        InitialDelay = initialDelay;
        MaxDelay = maxDelay;
        Factor = factor;
        Jitter = jitter;
        Retryable = retryable;
    }

    /// <summary>Attempts in all, the first included. 1 means no retry.</summary>
    public int MaxAttempts { get; }

    /// <summary>The delay before the first retry.</summary>
    public TimeSpan InitialDelay { get; }

    /// <summary>The longest delay between attempts.</summary>
    public TimeSpan MaxDelay { get; }

    /// <summary>Each delay is the previous one times this.</summary>
    public double Factor { get; }

    /// <summary>Each delay varies at random by up to this fraction either way (0.2 = ±20%), so retries of many consumers do not align.</summary>
    public double Jitter { get; }

    /// <summary>The user's predicate for retryable exceptions; null retries every failure except the ones Herald never retries.</summary>
    public Func<Exception, bool>? Retryable { get; }

    /// <summary>Returns a copy that retries only the exceptions <paramref name="retryable"/> accepts.</summary>
    public RetryPolicy When(Func<Exception, bool> retryable)
    {
        ArgumentNullException.ThrowIfNull(retryable);
        return new RetryPolicy(MaxAttempts, InitialDelay, MaxDelay, Factor, Jitter, retryable);
    }

    /// <summary>Returns a copy that retries only exceptions of type <typeparamref name="TException"/> (or derived).</summary>
    public RetryPolicy Handle<TException>()
        where TException : Exception => When(static e => e is TException);

    /// <summary>The delay before attempt <paramref name="nextAttempt"/> (2 for the first retry), jitter included.</summary>
    /// <param name="nextAttempt">The attempt about to be made, 2 or more.</param>
    /// <param name="random">A number in [0, 1) for the jitter.</param>
    public TimeSpan DelayBefore(int nextAttempt, double random)
    {
        double baseTicks = InitialDelay.Ticks * Math.Pow(Factor, Math.Max(0, nextAttempt - 2));
        double capped = Math.Min(baseTicks, MaxDelay.Ticks);
        double jittered = capped * (1 + (Jitter * ((2 * random) - 1)));
        return TimeSpan.FromTicks((long)Math.Clamp(jittered, 0, MaxDelay.Ticks));
    }

    /// <summary>Whether <paramref name="exception"/> is worth another attempt. Poison events and shutdown cancellations never are.</summary>
    internal bool ShouldRetry(Exception exception) =>
        exception is not (PoisonEventException or EventDecodingException) && (Retryable?.Invoke(exception) ?? true);

    /// <inheritdoc />
    public override string ToString() => MaxAttempts == 1 ? "no retry" : $"{MaxAttempts} attempts, {InitialDelay.TotalMilliseconds:0} ms x{Factor} up to {MaxDelay.TotalMilliseconds:0} ms, jitter {Jitter:P0}";
}
