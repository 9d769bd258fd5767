namespace Herald;

/// <summary>An append met a stream in another state than it expected (optimistic concurrency): nothing was written.</summary>
public sealed class WrongExpectedVersionException : Exception
{
    /// <summary>Creates the exception for <paramref name="streamId"/>.</summary>
    public WrongExpectedVersionException(string streamId, ExpectedVersion expected, long actual)
        : base($"Stream '{streamId}' is at version {(actual == 0 ? "0 (no stream)" : actual.ToString(System.Globalization.CultureInfo.InvariantCulture))}, "
            + $"but the append expected {expected}; nothing was written. Reload the stream and decide again.")
    {
        StreamId = streamId;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The stream.</summary>
    public string StreamId { get; }

    /// <summary>What the append expected.</summary>
    public ExpectedVersion Expected { get; }

    /// <summary>The stream's version when the append was tried (0: no stream).</summary>
    public long Actual { get; }
}
