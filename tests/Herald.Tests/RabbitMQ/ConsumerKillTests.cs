using System.Collections.Concurrent;
using System.Diagnostics;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.RabbitMQ;

/// <summary>A consumer process (tests/Herald.RabbitChild) is SIGKILLed mid-stream: its unacknowledged messages go to the other member of its group.</summary>
[Collection(BrokerCollection.Name)]
public sealed class ConsumerKillTests(RabbitMqBroker broker)
{
    public sealed class Handled
    {
        public ConcurrentDictionary<long, int> Ids { get; } = new();
    }

    public sealed class Worker(Handled handled) : IEventHandler<UserCreated>
    {
        public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            handled.Ids.AddOrUpdate(context.Event.Id, 1, (_, n) => n + 1);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task AKilledConsumersUnacknowledgedMessages_AreRedeliveredToTheOtherMember()
    {
        const int Count = 400;
        string unique = $"k{Guid.NewGuid():N}"[..12];
        var handled = new Handled();
        await using HeraldTestHarness harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseRabbitMQ(broker.Uri, o => { o.Exchange = unique; o.QueuePrefix = unique + "."; });
                h.AddHandler<Worker, UserCreated>(o => o.Group = "workers");
            },
            s => s.AddSingleton(handled));

        using var child = new ChildProcess("Herald.RabbitChild", broker.Uri, unique, unique + ".");
        await child.WaitForLineAsync(l => l == "READY", TimeSpan.FromSeconds(60));
        for (int i = 0; i < Count; i++)
        {
            await harness.Bus.PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch));
        }

        // Kill it while its slow handlers are busy and more messages wait unacknowledged in its prefetch.
        await child.WaitForLineAsync(l => l.StartsWith("H ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        child.Kill();
        await child.ExitedAsync();

        HashSet<long> startedThere = [.. child.Lines.Where(l => l.StartsWith("R ", StringComparison.Ordinal)).Select(l => long.Parse(l[2..], System.Globalization.CultureInfo.InvariantCulture))];
        HashSet<long> finishedThere = [.. child.Lines.Where(l => l.StartsWith("H ", StringComparison.Ordinal)).Select(l => long.Parse(l[2..], System.Globalization.CultureInfo.InvariantCulture))];
        DateTimeOffset deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (Enumerable.Range(0, Count).Any(i => !handled.Ids.ContainsKey(i) && !finishedThere.Contains(i)))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"not every event was handled: here {handled.Ids.Count}, in the killed process {finishedThere.Count}");
            await Task.Delay(20);
        }

        // What the killed process had started but not finished came to this member.
        long[] interrupted = [.. startedThere.Except(finishedThere)];
        Assert.NotEmpty(interrupted);
        Assert.All(interrupted, id => Assert.True(handled.Ids.ContainsKey(id), $"event {id} was interrupted by the kill and never redelivered"));
    }
}
