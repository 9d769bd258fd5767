namespace Herald.Testing.Transports;

/// <summary>The suite's one way to wait for state it cannot be told about: look again until it holds, or fail saying what was last seen.</summary>
internal static class Eventually
{
    /// <summary>Calls <paramref name="probe"/> until <paramref name="holds"/> accepts what it returns, or <paramref name="timeout"/> passes.</summary>
    /// <returns>The accepted value.</returns>
    /// <exception cref="TimeoutException">It never held; the message says what <paramref name="what"/> was last.</exception>
    public static async Task<T> HoldsAsync<T>(Func<Task<T>> probe, Func<T, bool> holds, TimeSpan timeout, Func<T, string> what)
    {
        long deadline = TimeProvider.System.GetTimestamp() + (long)(timeout.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (true)
        {
            T seen = await probe().ConfigureAwait(false);
            if (holds(seen))
            {
                return seen;
            }

            if (TimeProvider.System.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:0.#} s; last seen: {what(seen)}");
            }

            await Task.Delay(25, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
