using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Versions;

/// <summary>
/// In process an event travels as its object, not bytes: a module still publishing an older version is read by the
/// newer readers through the same upcasters.
/// </summary>
public sealed class UpgradeInProcessTests
{
    [Fact]
    public async Task OlderObjects_AreUpcastForHandlersAndSubscriptions_NewerOnesDeadLetteredOrSkipped()
    {
        var seen = new UpgradeEvents.Seen();
        await using HeraldTestHarness harness = await HeraldTestHarness.StartAsync(
            h => h.Upcasters()
                .AddHandler<UpgradeEvents.Welcome, MemberJoined>()
                .AddHandler<UpgradeEvents.SecondReleaseAudit, MemberJoinedV2>(),
            s => s.AddSingleton(seen));
        await using Subscription<MemberJoined> latest = harness.Bus.Subscribe<MemberJoined>();
        await using Subscription<MemberJoinedV2> second = harness.Bus.Subscribe<MemberJoinedV2>();

        await harness.Bus.PublishAsync(new MemberJoinedV1("m-1", "Ada Lovelace"));
        await harness.Bus.PublishAsync(new MemberJoinedV2("m-2", "Grace", "Hopper"));
        await harness.Bus.PublishAsync(new MemberJoined("m-3", "Alan", "Turing", "UK"));

        await Poll.UntilAsync(() => seen.Latest.Count >= 3 && seen.Second.Count >= 2, TimeSpan.FromSeconds(10), () => $"{seen.Latest.Count} and {seen.Second.Count}");
        Assert.Equal(
            [new MemberJoined("m-1", "Ada", "Lovelace", "unknown"), new MemberJoined("m-2", "Grace", "Hopper", "unknown"), new MemberJoined("m-3", "Alan", "Turing", "UK")],
            seen.Latest.OrderBy(e => e.MemberId));
        Assert.Equal([new MemberJoinedV2("m-1", "Ada", "Lovelace"), new MemberJoinedV2("m-2", "Grace", "Hopper")], seen.Second.OrderBy(e => e.MemberId));

        DeadLetter tooNew = await harness.DeadLettered<MemberJoined>();
        Assert.Equal("poison", tooNew.Reason);
        Assert.Contains("knows version 2", tooNew.ExceptionMessage, StringComparison.Ordinal);

        List<EventContext<MemberJoined>> read = DrainContexts(latest);
        Assert.Equal(["m-1", "m-2", "m-3"], read.Select(e => e.Event.MemberId));
        Assert.All(read, e => Assert.Equal("urn:herald:upgrade.member-joined:v3", e.Envelope.DataSchema)); // an upcast carries its new version
        Assert.Equal([new MemberJoinedV2("m-1", "Ada", "Lovelace"), new MemberJoinedV2("m-2", "Grace", "Hopper")], Drain(second)); // m-3 is too new: skipped
        Assert.Equal(1, second.Stats.DroppedWrongType);
    }

    private static List<EventContext<T>> DrainContexts<T>(Subscription<T> subscription)
    {
        var events = new List<EventContext<T>>();
        while (subscription.TryRead(out EventContext<T> context))
        {
            events.Add(context);
        }

        return events;
    }

    private static List<T> Drain<T>(Subscription<T> subscription)
    {
        var events = new List<T>();
        while (subscription.TryRead(out EventContext<T> context))
        {
            events.Add(context.Event);
        }

        return events;
    }
}
