namespace Herald.Testing.Transports;

/// <summary>Failures: dead letters and their redrive, and every kind of poison.</summary>
public abstract partial class TransportConformanceTests
{
    /// <summary>An event that fails its last attempt is dead-lettered with its reason; redriven, it goes to the consumer that failed it, alone.</summary>
    [Fact]
    public async Task DeadLetter_AfterTheLastAttempt_IsRedrivenToTheFailedConsumerAlone()
    {
        await using HeraldTestHarness harness = await StartAsync(h =>
        {
            h.AddHandler<FirstHandler, Placed>(o => { o.Name = "first"; o.Retry = Retry.Immediate(2); });
            h.AddHandler<SecondHandler, Placed>(o => o.Name = "second");
        });
        Script.Fail(1, role: "first");

        await PublishAsync(harness, [1]);
        DeadLetter letter = await harness.DeadLettered<Placed>(e => e.Event.Id == 1, Features.Patience);
        Assert.Equal("first", letter.Consumer);
        Assert.Equal("attempts-exhausted", letter.Reason);
        Assert.Equal(2, letter.Attempts);
        Assert.Contains("scripted failure", letter.ExceptionMessage, StringComparison.Ordinal);

        Script.Heal(1);
        Assert.True(await harness.DeadLetters.RedriveAsync(letter.Id));
        await PublishAsync(harness, [2]); // published after the redrive: once "second" has it, it had its chance at 1

        await HandledAsync(harness, "first", 1);
        await HandledAsync(harness, "second", 2);
        Assert.Equal([1], Handled(harness, "first").Where(id => id == 1));
        Assert.True(Handled(harness, "second").SequenceEqual([1, 2]), string.Join("; ", harness.Deliveries.Select(d => $"{d.Handler} {Id(d.Envelope)} {d.Outcome} x{d.Attempts}")));
        Assert.DoesNotContain(await harness.DeadLetters.ListAsync("conformance.placed"), d => d.Id == letter.Id);
    }

    /// <summary>JSON its type refuses (the constructor throws) is poison: dead-lettered with its reason, and the consumer goes on.</summary>
    [Fact]
    public async Task Poison_APayloadWhoseConstructorThrows_IsDeadLettered_AndTheConsumerGoesOn()
    {
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<StrictHandler, Strict>(o => o.Name = "strict"));

        await harness.Bus.PublishAsync(new Envelope("conformance.strict", new Dictionary<string, string> { ["Name"] = string.Empty }, TimeProvider.System.GetUtcNow()));
        await harness.Bus.PublishAsync(new Strict("after"));

        await HandledAsync(harness, "strict", 1);
        Assert.Contains(Script.Effects, e => e.Key.Role == "strict:after");
        await AssertPoisonAsync(harness, "conformance.strict", "strict");
    }

    /// <summary>Bytes that are not a CloudEvent are poison: dead-lettered under their topic with the reason, and the consumer goes on.</summary>
    [SkippableFact]
    public Task Poison_BytesThatAreNotACloudEvent_AreDeadLettered_AndTheConsumerGoesOn() => PoisonAsync(PoisonKind.NotACloudEvent);

    /// <summary>A CloudEvent with a malformed attribute is poison: dead-lettered under its topic with the reason, and the consumer goes on.</summary>
    [SkippableFact]
    public Task Poison_AMalformedAttribute_IsDeadLettered_AndTheConsumerGoesOn() => PoisonAsync(PoisonKind.MalformedAttribute);

    private async Task PoisonAsync(PoisonKind kind)
    {
        await using HeraldTestHarness harness = await StartAsync(h => h.AddHandler<FirstHandler, Placed>(o => o.Name = "first"));

        // More than a broker's usual prefetch: poison left unsettled would fill it and stop every delivery after it.
        for (int i = 0; i < 20; i++)
        {
            Skip.IfNot(await Fixture.InjectAsync("conformance.placed", kind, CancellationToken.None), $"the transport carries no {kind} input (nothing is encoded)");
        }

        await PublishAsync(harness, [1]);

        await HandledAsync(harness, "first", 1);
        await AssertPoisonAsync(harness, "conformance.placed", "first", count: 20);
    }

    private async Task AssertPoisonAsync(HeraldTestHarness harness, string topic, string consumer, int count = 1)
    {
        // A dead letter of poison is stored by the transport's reader, not by a handler: the harness does not see it.
        List<DeadLetter> letters = await Eventually.HoldsAsync(
            async () => (await harness.DeadLetters.ListAsync(topic, max: 1000).ConfigureAwait(false)).Where(d => d.Consumer == consumer).ToList(),
            found => found.Count >= count,
            Features.Patience,
            found => $"{found.Count} dead letters of '{consumer}' under '{topic}', expected {count}").ConfigureAwait(false);

        Assert.Equal(count, letters.Count);
        Assert.All(letters, d => Assert.Equal("poison", d.Reason));
        Assert.All(letters, d => Assert.False(string.IsNullOrEmpty(d.ExceptionMessage)));
    }
}
