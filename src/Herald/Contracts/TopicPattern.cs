using System.Diagnostics.CodeAnalysis;

namespace Herald;

/// <summary>
/// A subscription pattern over topics, with AMQP topic-exchange wildcards so that a pattern maps one to one onto a
/// RabbitMQ binding key: <c>*</c> matches exactly one segment, <c>#</c> matches zero or more.
/// <c>order.*</c> matches <c>order.paid</c> but not <c>order.paid.late</c>; <c>order.#</c> matches both, and <c>order</c>.
/// </summary>
public sealed class TopicPattern : IEquatable<TopicPattern>
{
    private readonly string[] _segments;
    private readonly Shape _shape;
    private readonly string _prefix;

    private TopicPattern(string value, string[] segments)
    {
        Value = value;
        _segments = segments;
        bool hasWildcard = Array.Exists(segments, s => s is "*" or "#");
        if (!hasWildcard)
        {
            _shape = Shape.Exact;
            _prefix = value;
        }
        else if (value == "#")
        {
            _shape = Shape.Everything;
            _prefix = string.Empty;
        }
        else if (segments[^1] == "#" && Array.IndexOf(segments, "#") == segments.Length - 1 && Array.IndexOf(segments, "*") < 0)
        {
            // "a.b.#": the topic is "a.b" or starts with "a.b."
            _shape = Shape.PrefixThenAnything;
            _prefix = value[..^2];
        }
        else
        {
            _shape = Shape.General;
            _prefix = string.Empty;
        }
    }

    private enum Shape
    {
        Exact,
        Everything,
        PrefixThenAnything,
        General,
    }

    /// <summary>The pattern as written, e.g. <c>order.*</c>.</summary>
    public string Value { get; }

    /// <summary>True when the pattern has no wildcard and so names exactly one topic.</summary>
    public bool IsExact => _shape == Shape.Exact;

    /// <summary>Parses a pattern, throwing an <see cref="InvalidTopicException"/> that says what is wrong.</summary>
    /// <param name="pattern">The pattern, e.g. <c>order.*</c>, <c>user.#</c>, <c>*.created</c> or <c>#</c>.</param>
    public static TopicPattern Parse(string pattern)
    {
        string? problem = Explain(pattern, out string[]? segments);
        return problem is null ? new TopicPattern(pattern, segments!) : throw new InvalidTopicException(problem, pattern, eventType: null);
    }

    /// <summary>Parses a pattern; returns false when it breaks the grammar.</summary>
    public static bool TryParse([NotNullWhen(true)] string? pattern, [NotNullWhen(true)] out TopicPattern? result)
    {
        result = Explain(pattern, out string[]? segments) is null ? new TopicPattern(pattern!, segments!) : null;
        return result is not null;
    }

    /// <summary>Returns true when <paramref name="topic"/> matches this pattern.</summary>
    /// <param name="topic">A topic such as <c>order.paid</c>.</param>
    public bool IsMatch(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        return _shape switch
        {
            Shape.Exact => string.Equals(topic, _prefix, StringComparison.Ordinal),
            Shape.Everything => true,
            Shape.PrefixThenAnything => topic.StartsWith(_prefix, StringComparison.Ordinal)
                && (topic.Length == _prefix.Length || topic[_prefix.Length] == '.'),
            _ => MatchFrom(0, topic, topic.Length == 0 ? -1 : 0),
        };
    }

    /// <inheritdoc />
    public bool Equals(TopicPattern? other) => other is not null && string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as TopicPattern);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    /// <inheritdoc />
    public override string ToString() => Value;

    /// <summary>Matches pattern segments from <paramref name="pi"/> against the topic from segment start <paramref name="t"/> (-1: no segment left).</summary>
    private bool MatchFrom(int pi, string topic, int t)
    {
        while (true)
        {
            if (pi == _segments.Length)
            {
                return t < 0;
            }

            string p = _segments[pi];
            if (p == "#")
            {
                if (pi == _segments.Length - 1)
                {
                    return true;
                }

                if (MatchFrom(pi + 1, topic, t))
                {
                    return true;
                }

                if (t < 0)
                {
                    return false;
                }

                t = NextSegment(topic, t); // let '#' swallow one more segment
                continue;
            }

            if (t < 0)
            {
                return false;
            }

            int end = topic.IndexOf('.', t);
            int length = (end < 0 ? topic.Length : end) - t;
            if (p != "*" && !topic.AsSpan(t, length).SequenceEqual(p))
            {
                return false;
            }

            pi++;
            t = end < 0 ? -1 : end + 1;
        }
    }

    private static int NextSegment(string topic, int t)
    {
        int end = topic.IndexOf('.', t);
        return end < 0 ? -1 : end + 1;
    }

    private static string? Explain(string? pattern, out string[]? segments)
    {
        segments = null;
        if (string.IsNullOrEmpty(pattern))
        {
            return "A topic pattern must not be null or empty; use e.g. 'order.*', 'user.#' or '#'.";
        }

        if (pattern.Length > Topic.MaxLength)
        {
            return $"Pattern '{pattern[..40]}...' is {pattern.Length} characters long; the limit is {Topic.MaxLength}.";
        }

        string[] parts = pattern.Split('.');
        for (int i = 0; i < parts.Length; i++)
        {
            string? problem = Topic.ExplainSegment(pattern, parts[i], i + 1, allowWildcards: true);
            if (problem is not null)
            {
                return problem;
            }
        }

        if (parts.Length == 1 && parts[0] is not ("*" or "#"))
        {
            return $"Pattern '{pattern}' has a single segment and no wildcard, so it can never match a topic; "
                + $"did you mean '{pattern}.*', '{pattern}.#' or '*.{pattern}'?";
        }

        segments = parts;
        return null;
    }
}
