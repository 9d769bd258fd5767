namespace Herald.Analyzers;

/// <summary>
/// The topic and pattern grammar, as <c>Herald.Topic</c> and <c>Herald.TopicPattern</c> check it at run time (the
/// analyzer cannot reference Herald, which targets a newer framework; a test holds the two to the same answers).
/// </summary>
internal static class TopicGrammar
{
    public const int MaxLength = 255;

    /// <summary>Null for a valid topic, else what is wrong.</summary>
    public static string? ExplainTopic(string topic)
    {
        if (topic.Length == 0)
        {
            return "a topic must not be empty; use '{domain}.{action}', e.g. 'user.created'";
        }

        if (topic.Length > MaxLength)
        {
            return $"the topic is {topic.Length} characters long; the limit is {MaxLength}";
        }

        string[] segments = topic.Split('.');
        for (int i = 0; i < segments.Length; i++)
        {
            string? problem = ExplainSegment(topic, segments[i], i + 1, allowWildcards: false);
            if (problem is not null)
            {
                return problem;
            }
        }

        return segments.Length < 2
            ? $"topic '{topic}' has a single segment; a topic needs at least two, '{{domain}}.{{action}}', e.g. 'user.{topic}'"
            : null;
    }

    /// <summary>Null for a valid subscription pattern, else what is wrong.</summary>
    public static string? ExplainPattern(string pattern)
    {
        if (pattern.Length == 0)
        {
            return "a topic pattern must not be empty; use e.g. 'order.*', 'user.#' or '#'";
        }

        if (pattern.Length > MaxLength)
        {
            return $"the pattern is {pattern.Length} characters long; the limit is {MaxLength}";
        }

        string[] segments = pattern.Split('.');
        for (int i = 0; i < segments.Length; i++)
        {
            string? problem = ExplainSegment(pattern, segments[i], i + 1, allowWildcards: true);
            if (problem is not null)
            {
                return problem;
            }
        }

        return segments.Length == 1 && segments[0] != "*" && segments[0] != "#"
            ? $"pattern '{pattern}' has a single segment and no wildcard, so it can never match a topic; did you mean '{pattern}.*', '{pattern}.#' or '*.{pattern}'?"
            : null;
    }

    private static string? ExplainSegment(string whole, string segment, int position, bool allowWildcards)
    {
        string kind = allowWildcards ? "pattern" : "topic";
        if (segment.Length == 0)
        {
            return $"{kind} '{whole}' has an empty segment at position {position}; segments are separated by single dots";
        }

        if (segment == "*" || segment == "#")
        {
            return allowWildcards ? null : $"topic '{whole}' contains the wildcard '{segment}': wildcards belong in subscription patterns, not in a topic";
        }

        foreach (char c in segment)
        {
            if (c == '*' || c == '#')
            {
                return $"{kind} '{whole}' has segment '{segment}' with a wildcard mixed with text; '*' and '#' must stand alone as a whole segment";
            }

            if (!IsSegmentStart(c) && c != '_' && c != '-')
            {
                string what = c >= 'A' && c <= 'Z' ? $"the uppercase letter '{c}' (topics are lowercase)" : $"the character '{c}'";
                return $"{kind} '{whole}' has segment '{segment}' with {what}; segments use [a-z0-9_-] only";
            }
        }

        return IsSegmentStart(segment[0]) ? null : $"{kind} '{whole}' has segment '{segment}' that starts with '{segment[0]}'; a segment starts with a lowercase letter or a digit";
    }

    private static bool IsSegmentStart(char c) => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
