using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Testing.Transports;

/// <summary>
/// The promises every Herald transport keeps, as xunit tests. A transport's test is a subclass with an empty body that
/// passes its fixture:
/// <code>public sealed class MyTransportConformance() : TransportConformanceTests(new MyTransportFixture());</code>
/// Tests of promises the fixture's <see cref="TransportFeatures"/> does not make are skipped, with the reason. See
/// docs/transports.md.
/// </summary>
/// <param name="fixture">This test's place on the transport (one per test; disposed after it).</param>
public abstract partial class TransportConformanceTests(TransportFixture fixture) : IAsyncLifetime
{
    /// <summary>The test's place on the transport.</summary>
    protected TransportFixture Fixture { get; } = fixture ?? throw new ArgumentNullException(nameof(fixture));

    /// <summary>What the transport promises.</summary>
    protected TransportFeatures Features => Fixture.Features;

    /// <summary>What the test's handlers do and saw.</summary>
    protected Script Script { get; } = new();

    /// <inheritdoc />
    public Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public async Task DisposeAsync() => await Fixture.DisposeAsync().ConfigureAwait(false);

    /// <summary>Starts a harness on the fixture's place with the handlers <paramref name="configure"/> registers.</summary>
    /// <param name="configure">Registers handlers and options.</param>
    /// <param name="logs">Where the harness logs; default nowhere.</param>
    protected Task<HeraldTestHarness> StartAsync(Action<HeraldBuilder> configure, ILoggerFactory? logs = null) =>
        HeraldTestHarness.StartAsync(
            h =>
            {
                Fixture.Use(h);
                configure(h);
            },
            s => s.AddSingleton(Script),
            loggerFactory: logs);

    /// <summary>The ids <paramref name="role"/> handled, in the order its deliveries finished.</summary>
    protected static List<int> Handled(HeraldTestHarness harness, string role) =>
        [.. harness.Deliveries.Where(d => d.Handler == role && d.Outcome == DeliveryOutcome.Handled).Select(d => Id(d.Envelope))];

    /// <summary>Waits until <paramref name="role"/> has handled <paramref name="count"/> events.</summary>
    protected Task HandledAsync(HeraldTestHarness harness, string role, int count) =>
        harness.DeliveriesAsync(d => d.Handler == role && d.Outcome == DeliveryOutcome.Handled, count, Features.Patience);

    /// <summary>Publishes <see cref="Placed"/> events with the given ids, each under its key (default <c>k{id}</c>).</summary>
    protected static async Task PublishAsync(HeraldTestHarness harness, IEnumerable<int> ids, Func<int, string>? key = null)
    {
        foreach (int id in ids)
        {
            string k = key?.Invoke(id) ?? $"k{id}";
            await harness.Bus.PublishAsync(new Placed(id, k), new PublishOptions { Key = k }).ConfigureAwait(false);
        }
    }

    private static int Id(Envelope envelope) => envelope.Data switch
    {
        Placed p => p.Id,
        Paid p => p.Id,
        ShippedLate s => s.Id,
        _ => -1,
    };

    /// <summary>Publish reaches every group, typed: each of two handlers gets every event once.</summary>
    [Fact]
    public async Task Publish_ReachesEveryGroup_OnceEach_Typed()
    {
        await using HeraldTestHarness harness = await StartAsync(h =>
        {
            h.AddHandler<FirstHandler, Placed>(o => o.Name = "first");
            h.AddHandler<SecondHandler, Placed>(o => o.Name = "second");
        });

        await PublishAsync(harness, Enumerable.Range(1, 20));

        await HandledAsync(harness, "first", 20);
        await HandledAsync(harness, "second", 20);
        Assert.Equal(Enumerable.Range(1, 20), Handled(harness, "first").Order());
        Assert.Equal(Enumerable.Range(1, 20), Handled(harness, "second").Order());
        Assert.All(harness.Deliveries, d => Assert.IsType<Placed>(d.Envelope.Data));
    }

    /// <summary>Members of one group compete: every event is handled by exactly one of them.</summary>
    [SkippableFact]
    public async Task MembersOfOneGroup_Compete_EachEventOnce()
    {
        Skip.IfNot(Features.Groups, "the transport does not promise consumer groups");
        await using HeraldTestHarness harness = await StartAsync(h =>
        {
            h.AddHandler<FirstHandler, Placed>(o => { o.Name = "first"; o.Group = "shared"; });
            h.AddHandler<SecondHandler, Placed>(o => { o.Name = "second"; o.Group = "shared"; });
        });

        await PublishAsync(harness, Enumerable.Range(1, 40));

        await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 40, Features.Patience);
        List<int> all = [.. Handled(harness, "first"), .. Handled(harness, "second")];
        Assert.Equal(Enumerable.Range(1, 40), all.Order());
    }

    /// <summary><c>*</c> is exactly one segment, <c>#</c> zero or more, on every transport.</summary>
    [Fact]
    public async Task Patterns_StarIsOneSegment_HashIsAnyNumber()
    {
        await using HeraldTestHarness harness = await StartAsync(h =>
        {
            h.AddHandler<AnyHandler>("conformance.*", o => o.Name = "star");
            h.AddHandler<AnyHandler>("conformance.#", o => o.Name = "hash");
        });

        await harness.Bus.PublishAsync(new Placed(1, "k"));
        await harness.Bus.PublishAsync(new Paid(2));
        await harness.Bus.PublishAsync(new ShippedLate(3));
        await harness.Bus.PublishAsync(new Paid(4)); // the last one: once "star" has it, it had its chance at 3

        await HandledAsync(harness, "hash", 4);
        await HandledAsync(harness, "star", 3);
        Assert.Equal([1, 2, 3, 4], Handled(harness, "hash"));
        Assert.Equal([1, 2, 4], Handled(harness, "star"));
    }

    /// <summary>Events of one key are handled in publish order under concurrency, even when one of them is retried.</summary>
    [SkippableFact]
    public async Task PerKeyOrder_UnderConcurrency_HoldsAcrossARetry()
    {
        Skip.IfNot(Features.OrderedByKey, "the transport does not promise per-key order");
        const int Keys = 6, PerKey = 8;
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o =>
        {
            o.Name = "first";
            o.OrderedByKey = true;
            o.Concurrency = 4;
            o.Retry = Retry.Fixed(3, TimeSpan.FromMilliseconds(50));
        }));
        for (int id = 1; id <= Keys * PerKey; id += 5)
        {
            Script.Fail(id, attempts: 1); // one in five fails once: its key's later events must wait for its retry
        }

        await PublishAsync(harness, Enumerable.Range(1, Keys * PerKey), id => $"key-{id % Keys}");

        await HandledAsync(harness, "first", Keys * PerKey);
        List<int> handled = Handled(harness, "first");
        for (int k = 0; k < Keys; k++)
        {
            List<int> ofKey = [.. handled.Where(id => id % Keys == k)];
            Assert.True(ofKey.SequenceEqual(ofKey.Order()), $"key-{k} was handled out of order: {string.Join(", ", ofKey)}");
        }

        Assert.Contains(Script.Attempts, a => a.Id == 1 && a.Attempt == 2);
    }

    /// <summary>A failed attempt is retried with the attempt count going up, and the event is handled once in the end.</summary>
    [Fact]
    public async Task Retry_TriesAgain_CountingAttempts()
    {
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o =>
        {
            o.Name = "first";
            o.Retry = Retry.Fixed(4, TimeSpan.FromMilliseconds(20));
        }));
        Script.Fail(7, attempts: 2);

        await PublishAsync(harness, [7]);

        await HandledAsync(harness, "first", 1);
        Assert.Equal([1, 2, 3], Script.Attempts.Where(a => a.Id == 7).Select(a => a.Attempt));
        Assert.Equal(1, Script.Effects[("first", 7)]);
    }

    /// <summary>A delayed event is delivered, and not before its delay.</summary>
    [Fact]
    public async Task Delay_DeliversAfterTheDelay()
    {
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first"));
        TimeSpan delay = TimeSpan.FromMilliseconds(400);

        DateTimeOffset published = TimeProvider.System.GetUtcNow();
        await harness.Bus.PublishAsync(new Placed(1, "k"), new PublishOptions { Delay = delay });

        await HandledAsync(harness, "first", 1);
        DateTimeOffset handled = Assert.Single(Script.Attempts).At;
        Assert.True(handled - published >= delay - TimeSpan.FromMilliseconds(50), $"delivered after {(handled - published).TotalMilliseconds:0} ms, before the {delay.TotalMilliseconds} ms delay");
    }
}
