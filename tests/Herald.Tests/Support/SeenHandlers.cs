namespace Herald.Tests.Support;

// The handlers the transport tests share (SQLite, RabbitMQ, the regression tests): each records into Seen or fails as named.

public sealed class Email(Seen seen) : IEventHandler<UserCreated>
{
    public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
    {
        seen.Email.AddOrUpdate(context.Envelope.Id, 1, (_, n) => n + 1);
        seen.Order.Enqueue((context.Event.Id, context.Attempt));
        return Task.CompletedTask;
    }
}

public sealed class Points(Seen seen) : IEventHandler<UserCreated>
{
    public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
    {
        seen.Points.AddOrUpdate(context.Envelope.Id, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}

public sealed class Poisoned : IEventHandler<UserCreated>
{
    public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken) =>
        context.Event.Id == 13 ? throw new InvalidOperationException("user 13 is cursed") : Task.CompletedTask;
}

public sealed class Slow(TaskCompletionSource started) : IEventHandler<UserCreated>
{
    public async Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
    {
        started.TrySetResult();
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}

public sealed class Audit(Seen seen) : IEventHandler<object>
{
    public Task HandleAsync(EventContext<object> context, CancellationToken cancellationToken)
    {
        if (context.Event is UserCreated user)
        {
            seen.Order.Enqueue((user.Id, context.Attempt));
        }

        return Task.CompletedTask;
    }
}

/// <summary>Always fails, recording the attempts it saw.</summary>
public sealed class AlwaysFails(Seen seen) : IEventHandler<UserCreated>
{
    public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
    {
        seen.Order.Enqueue((context.Event.Id, context.Attempt));
        throw new TimeoutException($"attempt {context.Attempt} timed out");
    }
}

/// <summary>Fails the first attempt only.</summary>
public sealed class FailsOnce(Seen seen) : IEventHandler<UserCreated>
{
    public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
    {
        seen.Order.Enqueue((context.Event.Id, context.Attempt));
        return context.Attempt == 1 ? throw new TimeoutException("first attempt") : Task.CompletedTask;
    }
}
