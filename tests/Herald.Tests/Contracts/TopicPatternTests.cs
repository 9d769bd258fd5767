namespace Herald.Tests.Contracts;

public sealed class TopicPatternTests
{
    [Theory]
    // exact
    [InlineData("user.created", "user.created", true)]
    [InlineData("user.created", "user.deleted", false)]
    [InlineData("user.created", "user.created.late", false)]
    // '*' is exactly one segment
    [InlineData("order.*", "order.paid", true)]
    [InlineData("order.*", "order.paid.late", false)]
    [InlineData("order.*", "order", false)]
    [InlineData("order.*", "orders.paid", false)]
    [InlineData("*.created", "user.created", true)]
    [InlineData("*.created", "order.created", true)]
    [InlineData("*.created", "user.created.late", false)]
    [InlineData("*.created", "a.user.created", false)]
    [InlineData("*.*", "user.created", true)]
    [InlineData("*.*", "order.paid.late", false)]
    [InlineData("*", "user.created", false)]
    [InlineData("user.*.late", "user.paid.late", true)]
    [InlineData("user.*.late", "user.late", false)]
    // '#' is zero or more segments
    [InlineData("#", "user.created", true)]
    [InlineData("#", "a.b.c.d.e", true)]
    [InlineData("order.#", "order.paid", true)]
    [InlineData("order.#", "order.paid.late", true)]
    [InlineData("order.#", "order", true)]
    [InlineData("order.#", "orders.paid", false)]
    [InlineData("order.#", "orderx", false)]
    [InlineData("#.created", "user.created", true)]
    [InlineData("#.created", "a.b.user.created", true)]
    [InlineData("#.created", "created", true)]
    [InlineData("#.created", "user.created.late", false)]
    [InlineData("user.#.late", "user.late", true)]
    [InlineData("user.#.late", "user.paid.late", true)]
    [InlineData("user.#.late", "user.a.b.c.late", true)]
    [InlineData("user.#.late", "user.a.b.c.early", false)]
    [InlineData("#.#", "user.created", true)]
    [InlineData("*.#", "user", true)]
    [InlineData("*.#", "user.created.late", true)]
    [InlineData("#.*", "user", true)]
    [InlineData("#.*.late", "late", false)]
    [InlineData("a.#.b.#.c", "a.b.c", true)]
    [InlineData("a.#.b.#.c", "a.x.b.y.z.c", true)]
    [InlineData("a.#.b.#.c", "a.x.y.c", false)]
    [InlineData("*.*.#", "user", false)]
    public void IsMatch_Table(string pattern, string topic, bool expected) =>
        Assert.Equal(expected, TopicPattern.Parse(pattern).IsMatch(topic));

    [Theory]
    [InlineData("", "must not be null or empty")]
    [InlineData("order.", "empty segment at position 2")]
    [InlineData("Order.*", "uppercase letter 'O'")]
    [InlineData("order.pa*", "wildcard mixed with text")]
    [InlineData("order.#x", "wildcard mixed with text")]
    [InlineData("created", "can never match a topic")]
    public void Parse_BadPattern_ThrowsNamingProblem(string pattern, string problem)
    {
        InvalidTopicException ex = Assert.Throws<InvalidTopicException>(() => TopicPattern.Parse(pattern));
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        Assert.False(TopicPattern.TryParse(pattern, out _));
    }

    [Fact]
    public void IsExact_OnlyWithoutWildcards()
    {
        Assert.True(TopicPattern.Parse("user.created").IsExact);
        Assert.False(TopicPattern.Parse("user.*").IsExact);
        Assert.False(TopicPattern.Parse("#").IsExact);
    }

    [Fact]
    public void Equality_ByValue()
    {
        Assert.Equal(TopicPattern.Parse("order.*"), TopicPattern.Parse("order.*"));
        Assert.NotEqual(TopicPattern.Parse("order.*"), TopicPattern.Parse("order.#"));
    }
}
