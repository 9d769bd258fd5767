using Herald.Nats;

namespace Herald.Tests.Nats;

/// <summary>Herald patterns as JetStream filters: table-tested, and every mapping checked against Herald's own matcher.</summary>
public sealed class NatsSubjectsTests
{
    [Theory]
    [InlineData("user.created", "herald.user.created", null, false)]
    [InlineData("user.*", "herald.user.*", null, false)]
    [InlineData("*.created", "herald.*.created", null, false)]
    [InlineData("order.#", "herald.order.>", null, false)] // a topic has two segments: 'order' alone is none
    [InlineData("order.paid.#", "herald.order.paid.>", "herald.order.paid", false)] // '#' is zero or more: the head too
    [InlineData("*.paid.#", "herald.*.paid.>", "herald.*.paid", false)]
    [InlineData("#", "herald.>", null, false)]
    [InlineData("#.created", "herald.>", null, true)] // '>' only last: filtered from the '#' on, matched by Herald
    [InlineData("order.#.late", "herald.order.>", null, true)]
    public void Patterns_MapToFilters(string pattern, string first, string? second, bool approximate)
    {
        (IReadOnlyList<string> filters, bool isApproximate) = NatsSubjects.Filters("herald", TopicPattern.Parse(pattern));
        Assert.Equal(second is null ? [first] : [first, second], filters);
        Assert.Equal(approximate, isApproximate);
    }

    /// <summary>A group ordered by key has one filter (two durable consumers' events are not ordered with each other): a trailing '#' that needs two is widened.</summary>
    [Theory]
    [InlineData("user.created", "herald.user.created", false)]
    [InlineData("order.#", "herald.order.>", false)]
    [InlineData("order.paid.#", "herald.order.>", true)]
    [InlineData("*.paid.#", "herald.*.>", true)]
    [InlineData("a.b.c.#", "herald.a.b.>", true)]
    [InlineData("#.created", "herald.>", true)]
    public void OrderedGroups_GetOneFilter(string pattern, string filter, bool approximate)
    {
        (IReadOnlyList<string> filters, bool isApproximate) = NatsSubjects.Filters("herald", TopicPattern.Parse(pattern), single: true);
        Assert.Equal([filter], filters);
        Assert.Equal(approximate, isApproximate);
    }

    public static TheoryData<string, string> PatternsAndTopics => new()
    {
        { "order.#", "order.paid" }, { "order.#", "order.paid.late" }, { "order.#", "user.created" },
        { "order.paid.#", "order.paid" }, { "order.paid.#", "order.paid.late" }, { "order.paid.#", "order.refunded" },
        { "*.created", "user.created" }, { "*.created", "user.created.late" }, { "user.*", "user.created" },
        { "#", "a.b" }, { "#", "a.b.c.d" }, { "#.created", "user.created" }, { "#.created", "user.deleted" },
        { "order.#.late", "order.paid.late" }, { "order.#.late", "order.late" }, { "order.#.late", "order.paid" },
    };

    /// <summary>An exact mapping selects what the pattern matches; an approximate one selects at least that (Herald then matches).</summary>
    [Theory]
    [MemberData(nameof(PatternsAndTopics))]
    public void Filters_SelectWhatThePatternMatches(string pattern, string topic)
    {
        Selects(pattern, topic, single: false);
        Selects(pattern, topic, single: true);
    }

    private static void Selects(string pattern, string topic, bool single)
    {
        var parsed = TopicPattern.Parse(pattern);
        (IReadOnlyList<string> filters, bool approximate) = NatsSubjects.Filters("herald", parsed, single);
        bool selected = filters.Any(f => NatsSubjects.Matches(f, NatsSubjects.Of("herald", topic)));
        if (approximate)
        {
            Assert.True(selected || !parsed.IsMatch(topic));
        }
        else
        {
            Assert.Equal(parsed.IsMatch(topic), selected);
        }

        // Never two filters for one subject: each event reaches a group through one durable consumer only.
        Assert.True(filters.Count(f => NatsSubjects.Matches(f, NatsSubjects.Of("herald", topic))) <= 1);
    }

    [Theory]
    [InlineData("herald.>", "herald.a.b", true)]
    [InlineData("herald.>", "herald", false)]
    [InlineData("herald.*.b", "herald.a.b", true)]
    [InlineData("herald.*.b", "herald.a.b.c", false)]
    [InlineData("herald.a", "herald.a.b", false)]
    public void SubjectMatching_FollowsNats(string filter, string subject, bool matches) =>
        Assert.Equal(matches, NatsSubjects.Matches(filter, subject));

    [Theory]
    [InlineData("risk", "risk")]
    [InlineData("Registration.Email", "Registration_Email_")]
    [InlineData("a b*c>d", "a_b_c_d_")]
    public void ConsumerNames_HoldNoDotsOrWildcards(string group, string start)
    {
        string name = NatsSubjects.ConsumerName(group, 0);
        Assert.StartsWith(start, name, StringComparison.Ordinal);
        Assert.True(NatsSubjects.IsToken(name));
        Assert.NotEqual(NatsSubjects.ConsumerName("a.b", 0), NatsSubjects.ConsumerName("a_b", 0));
        Assert.Equal(name + "__1", NatsSubjects.ConsumerName(group, 1));
    }
}
