namespace Herald.Tests.Support;

/// <summary>Waits for state a test cannot be told about: looks again every 20 ms until it holds, or fails saying what was seen.</summary>
public static class Poll
{
    /// <summary>Returns once <paramref name="condition"/> holds; fails the test after <paramref name="timeout"/> with <paramref name="what"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"timed out: {what()}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Returns once the asynchronous <paramref name="condition"/> holds (a query, a request); fails the test after <paramref name="timeout"/> with <paramref name="what"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> what)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!await condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"timed out: {what()}");
            }

            await Task.Delay(20);
        }
    }
}
