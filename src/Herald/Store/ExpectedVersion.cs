namespace Herald;

/// <summary>
/// What an append expects of its stream, for optimistic concurrency: <see cref="Any"/>, <see cref="NoStream"/>,
/// <see cref="StreamExists"/>, or an exact version (the stream's last event number; the first event is version 1).
/// </summary>
public readonly record struct ExpectedVersion
{
    private const long AnyValue = -1;
    private const long NoStreamValue = 0;
    private const long StreamExistsValue = -2;

    private ExpectedVersion(long value) => Value = value;

    /// <summary>No check: the events go at the end of the stream, whatever it holds.</summary>
    public static ExpectedVersion Any { get; } = new(AnyValue);

    /// <summary>The stream must hold no event yet.</summary>
    public static ExpectedVersion NoStream { get; } = new(NoStreamValue);

    /// <summary>The stream must hold at least one event.</summary>
    public static ExpectedVersion StreamExists { get; } = new(StreamExistsValue);

    /// <summary>The raw value: a version (0 = no stream), -1 for any, -2 for stream exists.</summary>
    public long Value { get; }

    /// <summary>The stream's last event must be version <paramref name="version"/> (0 means the stream is empty).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="version"/> is negative.</exception>
    public static ExpectedVersion Exactly(long version)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        return new ExpectedVersion(version);
    }

    /// <summary>Whether a stream at <paramref name="actual"/> (0 when it has no event) satisfies this expectation.</summary>
    public bool IsSatisfiedBy(long actual) => Value switch
    {
        AnyValue => true,
        StreamExistsValue => actual > 0,
        _ => actual == Value,
    };

    /// <inheritdoc />
    public override string ToString() => Value switch
    {
        AnyValue => "any",
        NoStreamValue => "no stream",
        StreamExistsValue => "stream exists",
        _ => Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
