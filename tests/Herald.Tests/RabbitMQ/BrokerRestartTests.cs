using System.Collections.Concurrent;
using Herald.RabbitMQ;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Herald.Tests.RabbitMQ;

/// <summary>The broker stops in the middle of a stream of confirmed publishes and starts again.</summary>
[Collection(BrokerCollection.Name)]
public sealed class BrokerRestartTests(RabbitMqBroker broker, ITestOutputHelper output)
{
    [Fact]
    public async Task BrokerRestart_MidStream_EveryConfirmedPublishIsConsumed_DuplicatesSuppressed()
    {
        const int Count = 10_000;
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(seen, o => o.PublishTimeout = TimeSpan.FromSeconds(5), concurrency: 4);

        // Publish 0..Count-1, each until the broker confirmed it; an outage makes publishes fail fast, and the same
        // envelope (same id) is published again, so a publish that reached the broker unconfirmed is not a new event.
        var failures = new ConcurrentBag<string>();
        int confirmed = 0;
        Task publishing = Task.Run(async () =>
        {
            for (int i = 0; i < Count; i++)
            {
                var envelope = new Envelope("user.created", new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch), DateTimeOffset.UtcNow) { Id = $"n-{i}" };
                DateTimeOffset deadline = DateTimeOffset.UtcNow.AddSeconds(120);
                while (true)
                {
                    try
                    {
                        await harness.Bus.PublishAsync(envelope);
                        Interlocked.Increment(ref confirmed);
                        break;
                    }
                    catch (BrokerPublishException ex) when (DateTimeOffset.UtcNow < deadline)
                    {
                        failures.Add(ex.Message);
                        await Task.Delay(50);
                    }
                }
            }
        });

        while (Volatile.Read(ref confirmed) < Count / 3)
        {
            await Task.Delay(10);
        }

        await broker.ControlAsync(["stop_app"], TimeSpan.FromSeconds(60));
        await broker.ControlAsync(["start_app"], TimeSpan.FromSeconds(60));
        await publishing.WaitAsync(TimeSpan.FromMinutes(3));

        await Poll.UntilAsync(() => seen.Email.Count >= Count, TimeSpan.FromMinutes(2), () => $"{seen.Email.Count} of {Count} handled");
        int deliveries = seen.Email.Values.Sum();
        int duplicates = harness.Deliveries.Count(d => d.Outcome == DeliveryOutcome.Duplicate);
        string figures = $"broker restart: confirmed {confirmed}, distinct handled {seen.Email.Count}, handler runs {deliveries}, duplicates suppressed {duplicates}, publish failures during the outage {failures.Count}";
        output.WriteLine(figures);
        Console.WriteLine(figures);

        Assert.Equal(Count, confirmed);
        Assert.Equal(Count, seen.Email.Count); // every confirmed publish consumed
        Assert.All(seen.Email.Values, n => Assert.Equal(1, n)); // and handled once: redeliveries were skipped by the inbox
        Assert.NotEmpty(failures); // the outage was real
    }

    [Fact]
    public async Task WithWaitForConnection_APublishDuringTheOutage_CompletesWhenTheBrokerIsBack()
    {
        var seen = new Seen();
        await using HeraldTestHarness harness = await StartAsync(
            seen,
            o =>
            {
                o.PublishTimeout = TimeSpan.FromSeconds(60);
                o.WaitForConnection = true;
            },
            concurrency: 1);

        await broker.ControlAsync(["stop_app"], TimeSpan.FromSeconds(60));
        Task publish = harness.Bus.PublishAsync(new UserCreated(1, "x@y.z", DateTimeOffset.UnixEpoch)).AsTask();
        Assert.False(publish.IsCompleted); // waiting for the broker, not failing
        await broker.ControlAsync(["start_app"], TimeSpan.FromSeconds(60));
        await publish.WaitAsync(TimeSpan.FromSeconds(60));
        await harness.Consumed<UserCreated>(e => e.Event.Id == 1, TimeSpan.FromSeconds(60));
    }

    /// <summary>A host with the Email handler on its own exchange and queues, reconnecting every 500 ms.</summary>
    private Task<HeraldTestHarness> StartAsync(Seen seen, Action<RabbitMqOptions> configure, int concurrency)
    {
        string unique = $"r{Guid.NewGuid():N}"[..12];
        return HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseRabbitMQ(broker.Uri, o =>
                {
                    o.Exchange = unique;
                    o.QueuePrefix = unique + ".";
                    o.RecoveryInterval = TimeSpan.FromMilliseconds(500);
                    configure(o);
                });
                h.AddHandler<Email, UserCreated>(o => o.Concurrency = concurrency);
            },
            s => s.AddSingleton(seen));
    }

}
