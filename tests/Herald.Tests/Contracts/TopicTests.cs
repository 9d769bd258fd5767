using Herald.Tests.Support;

namespace Herald.Tests.Contracts;

public sealed class TopicTests
{
    [Theory]
    [InlineData("user.created")]
    [InlineData("payment.refunded")]
    [InlineData("order.paid.late")]
    [InlineData("a.b")]
    [InlineData("v2.user-profile.updated_at")]
    [InlineData("0.9")]
    public void IsValid_WellFormedTopic_ReturnsTrue(string topic) => Assert.True(Topic.IsValid(topic));

    [Theory]
    [InlineData("created", "single segment")]
    [InlineData("User.Created", "uppercase letter 'U'")]
    [InlineData("user..created", "empty segment at position 2")]
    [InlineData("user.*", "wildcard '*'")]
    [InlineData("user.#", "wildcard '#'")]
    [InlineData(".user.created", "empty segment at position 1")]
    [InlineData("user.created.", "empty segment at position 3")]
    [InlineData("user._created", "starts with '_'")]
    [InlineData("user.cre ated", "the character ' '")]
    [InlineData("user.cre*ated", "wildcard mixed with text")]
    [InlineData("", "must not be null or empty")]
    public void Validate_BadTopic_ThrowsNamingTopicAndProblem(string topic, string problem)
    {
        InvalidTopicException ex = Assert.Throws<InvalidTopicException>(() => Topic.Validate(topic));
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        if (topic.Length > 0)
        {
            Assert.Contains($"'{topic}'", ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal(topic, ex.Topic);
    }

    [Fact]
    public void Validate_TooLong_Throws()
    {
        string topic = "a." + new string('b', Topic.MaxLength);
        InvalidTopicException ex = Assert.Throws<InvalidTopicException>(() => Topic.Validate(topic));
        Assert.Contains("the limit is 255", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Of_TypeWithTopic_ReturnsIt()
    {
        Assert.Equal("user.created", Topic.Of<UserCreated>());
        Assert.Equal("order.paid.late", Topic.Of(typeof(OrderPaidLate)));
    }

    [Fact]
    public void Of_TypeWithoutTopic_ThrowsNamingTypeAndFix()
    {
        InvalidTopicException ex = Assert.Throws<InvalidTopicException>(() => Topic.Of<NoTopic>());
        Assert.Contains(typeof(NoTopic).FullName!, ex.Message, StringComparison.Ordinal);
        Assert.Contains("[Topic(\"user.created\")]", ex.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(NoTopic), ex.EventType);
    }

    [Theory]
    [InlineData(typeof(SingleSegmentTopic), "'created'")]
    [InlineData(typeof(UppercaseTopic), "'User.Created'")]
    [InlineData(typeof(EmptySegmentTopic), "'user..created'")]
    [InlineData(typeof(WildcardTopic), "'user.*'")]
    public void Of_TypeWithInvalidTopic_ThrowsNamingTypeAndTopic(Type type, string topic)
    {
        InvalidTopicException ex = Assert.Throws<InvalidTopicException>(() => Topic.Of(type));
        Assert.Contains(type.FullName!, ex.Message, StringComparison.Ordinal);
        Assert.Contains(topic, ex.Message, StringComparison.Ordinal);
    }
}
