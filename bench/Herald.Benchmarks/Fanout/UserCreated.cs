namespace Herald.Benchmarks.Fanout;

/// <summary>The benchmark event: the registration fan-out's user.created, with the publish timestamp it carries to the handler.</summary>
[Topic("user.created")]
public sealed record UserCreated(long Id, string Email, long PublishedAt) : Mediator.INotification;
