using System.Diagnostics.CodeAnalysis;
using Herald.Handling;
using Herald.Tests.Support;
using Herald.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Tests.Handling;

public sealed class HandlerConsumerTests
{
    /// <summary>A queue whose wait fails: the only way a consumer loop can die (an infrastructure fault, never a handler).</summary>
    private sealed class BrokenQueue : IConsumer
    {
        public string Name => "broken";

        public int Lanes => 1;

        public SubscriptionStats Stats => default;

        public bool TryRead(int lane, out Delivery delivery)
        {
            delivery = default;
            return false;
        }

        public ValueTask<bool> WaitToReadAsync(int lane, CancellationToken cancellationToken) => throw new InvalidOperationException("transport gone");

        public bool TryReadAny(out Delivery delivery) => TryRead(0, out delivery);

        public ValueTask<bool> WaitToReadAnyAsync(CancellationToken cancellationToken) => WaitToReadAsync(0, cancellationToken);

        public void CountWrongType(Envelope envelope)
        {
        }

        public bool TryPeekOldest([NotNullWhen(true)] out Envelope? envelope)
        {
            envelope = null;
            return false;
        }

        public ValueTask RedeliverAsync(Envelope envelope, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask SettleAsync(Delivery delivery, SettleKind kind, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task LoopThatDies_IsRecordedAsTheConsumersFault()
    {
        var descriptor = new HandlerDescriptor("email", typeof(object), typeof(UserCreated), TopicPattern.Parse("user.created"), new HandlerOptions());
        await using ServiceProvider services = new ServiceCollection().BuildServiceProvider();
        var consumer = new HandlerConsumer(descriptor, new BrokenQueue(), _ => ValueTask.CompletedTask, services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, NullLogger.Instance);

        consumer.Start();
        await Assert.ThrowsAsync<InvalidOperationException>(() => consumer.Completion.WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal("transport gone", consumer.Info.Fault?.Message);
    }
}
