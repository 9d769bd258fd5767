namespace Herald.RabbitChild;

/// <summary>Takes 50 ms per user, and says when it starts and when it is done.</summary>
public sealed class SlowWorker : IEventHandler<UserCreated>
{
    public async Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
    {
        Console.WriteLine($"R {context.Event.Id}");
        await Task.Delay(50, cancellationToken);
        Console.WriteLine($"H {context.Event.Id}");
    }
}
