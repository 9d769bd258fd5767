using Herald.Handling;
using Herald.Handling.Middleware;
using Herald.Tests.Support;

namespace Herald.Tests.Handling;

public sealed class PipelineComposerTests
{
    /// <summary>A user step that throws before it calls <c>next</c>.</summary>
    private sealed class ThrowsAtOnce(Exception exception) : IDeliveryMiddleware
    {
        public ValueTask InvokeAsync(DeliveryContext context, DeliveryDelegate next) => throw exception;
    }

    private static DeliveryContext NewDelivery(Guid id)
    {
        var descriptor = new HandlerDescriptor("composer", typeof(object), typeof(UserCreated), TopicPattern.Parse("user.created"), new HandlerOptions());
        var envelope = new Envelope("user.created", new UserCreated(1, "a@example.com", DateTimeOffset.UnixEpoch), DateTimeOffset.UnixEpoch, id);
        return new DeliveryContext(envelope, descriptor, services: null, TimeProvider.System, CancellationToken.None);
    }

    [Fact]
    public void AStepThatThrowsSynchronously_FailsTheComposedTask_InsteadOfThrowing()
    {
        var boom = new InvalidOperationException("boom");
        DeliveryDelegate pipeline = PipelineComposer.Compose([new ThrowsAtOnce(boom)], _ => ValueTask.CompletedTask);

        ValueTask delivered = pipeline(NewDelivery(Guid.NewGuid()));

        Assert.True(delivered.IsFaulted);
        Assert.Same(boom, Assert.Throws<InvalidOperationException>(() => delivered.GetAwaiter().GetResult()));
    }

    [Fact]
    public void ABuiltInStep_GetsANextThatNeverThrows_SoAFailedDeliveryGivesItsInboxClaimBack()
    {
        // The idempotency step's synchronous path relies on the contract: had the throw come through as a throw, its
        // claim would stay taken and the next delivery of the same id would be skipped as a duplicate.
        var inbox = new InMemoryInboxStore();
        DeliveryDelegate pipeline = PipelineComposer.Compose(
            [new IdempotencyMiddleware(inbox, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance), new ThrowsAtOnce(new InvalidOperationException("boom"))],
            _ => ValueTask.CompletedTask);
        var id = Guid.CreateVersion7();

        DeliveryContext first = NewDelivery(id);
        Assert.True(pipeline(first).IsFaulted);
        DeliveryContext second = NewDelivery(id);
        Assert.True(pipeline(second).IsFaulted);

        Assert.NotEqual(DeliveryOutcome.Duplicate, second.Outcome);
        Assert.Equal(0, inbox.Count);
    }
}
