using System.Diagnostics;

namespace Registration;

/// <summary>Simulated CPU work.</summary>
public static class Work
{
    public static void Spin(TimeSpan duration)
    {
        long until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(20);
        }
    }
}
