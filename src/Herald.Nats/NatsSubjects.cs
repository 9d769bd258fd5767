namespace Herald.Nats;

/// <summary>
/// Topics and patterns as NATS subjects and consumer filters. A topic is a subject under the prefix
/// (<c>user.created</c> is <c>herald.user.created</c>); Herald's <c>*</c> is NATS's <c>*</c> (one token). Herald's
/// <c>#</c> is zero or more segments while NATS's <c>&gt;</c> is one or more, and only last: <c>a.b.#</c> needs two
/// filters, <c>herald.a.b</c> and <c>herald.a.b.&gt;</c> (<c>order.#</c> needs only <c>herald.order.&gt;</c>: a topic has
/// two segments at least). A <c>#</c> before the end cannot be a filter: the subjects are filtered from the first
/// <c>#</c> on (<c>&gt;</c>) and the rest is matched by Herald as events arrive.
/// </summary>
internal static class NatsSubjects
{
    /// <summary>The filters of <paramref name="pattern"/>, and whether they select more than it matches (Herald then matches each event).</summary>
    /// <param name="prefix">The subject prefix.</param>
    /// <param name="pattern">The pattern.</param>
    /// <param name="single">
    /// One filter only (a group ordered by key: events of two durable consumers are not ordered with each other). A
    /// trailing <c>#</c> that needs two filters is then widened to one from the segment before it
    /// (<c>a.b.#</c> is <c>herald.a.&gt;</c>) and Herald matches each event.
    /// </param>
    public static (IReadOnlyList<string> Filters, bool Approximate) Filters(string prefix, TopicPattern pattern, bool single = false)
    {
        string[] segments = pattern.Value.Split('.');
        int hash = Array.IndexOf(segments, "#");
        if (hash < 0)
        {
            return ([prefix + "." + pattern.Value], false);
        }

        string head = string.Join('.', segments[..hash].Prepend(prefix));
        if (hash < segments.Length - 1)
        {
            return ([head + ".>"], true);
        }

        // A trailing '#': one or more segments is '>'; zero segments is the head itself, when the head can be a topic.
        if (hash < 2)
        {
            return ([head + ".>"], false);
        }

        return single ? ([string.Join('.', segments[..(hash - 1)].Prepend(prefix)) + ".>"], true) : ([head + ".>", head], false);
    }

    /// <summary>The subject of <paramref name="topic"/>.</summary>
    public static string Of(string prefix, string topic) => prefix + "." + topic;

    /// <summary>The topic of a subject under <paramref name="prefix"/>, or null.</summary>
    public static string? TopicOf(string prefix, string subject) =>
        subject.Length > prefix.Length + 1 && subject.StartsWith(prefix, StringComparison.Ordinal) && subject[prefix.Length] == '.' ? subject[(prefix.Length + 1)..] : null;

    /// <summary>Whether <paramref name="subject"/> matches the filter (<c>*</c> one token, <c>&gt;</c> one or more trailing tokens).</summary>
    public static bool Matches(string filter, string subject)
    {
        string[] f = filter.Split('.');
        string[] s = subject.Split('.');
        for (int i = 0; i < f.Length; i++)
        {
            if (f[i] == ">")
            {
                return s.Length > i;
            }

            if (i >= s.Length || (f[i] != "*" && !string.Equals(f[i], s[i], StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return f.Length == s.Length;
    }

    /// <summary>One subject token or name part: letters, digits, <c>-</c> and <c>_</c>.</summary>
    public static bool IsToken(string? value) =>
        !string.IsNullOrEmpty(value) && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>
    /// A JetStream consumer name for a group (names cannot hold <c>.</c>, <c>*</c>, <c>&gt;</c> or spaces): those become
    /// <c>_</c>, and a short hash of the original keeps two groups that differ only there apart.
    /// </summary>
    public static string ConsumerName(string group, int filter)
    {
        string name = IsToken(group) ? group : new string([.. group.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]) + "_" + Herald.Transport.KeyHash.Of(group).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        return filter == 0 ? name : $"{name}__{filter}";
    }
}
