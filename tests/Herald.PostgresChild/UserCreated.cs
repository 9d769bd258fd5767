namespace Herald.PostgresChild;

[Topic("user.created")]
public sealed record UserCreated(long Id, string Email, DateTimeOffset CreatedAt);
