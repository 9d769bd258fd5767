namespace Herald.Tests.Support;

[Topic("user.created")]
public sealed record UserCreated(long Id, string Email, DateTimeOffset CreatedAt);

[Topic("user.deleted")]
public sealed record UserDeleted(long Id);

[Topic("order.paid")]
public sealed record OrderPaid(long OrderId, decimal Amount);

[Topic("order.paid.late")]
public sealed record OrderPaidLate(long OrderId);

[Topic("test.numbered", DataSchema = "urn:herald:test.numbered:v1")]
public sealed record Numbered(int Publisher, int Sequence);

public sealed record NoTopic(int Value);

[Topic("created")]
public sealed record SingleSegmentTopic(int Value);

[Topic("User.Created")]
public sealed record UppercaseTopic(int Value);

[Topic("user..created")]
public sealed record EmptySegmentTopic(int Value);

[Topic("user.*")]
public sealed record WildcardTopic(int Value);

public static class TestEvents
{
    public static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    public static UserCreated User(long id) => new(id, $"user{id}@example.com", Now);
}
