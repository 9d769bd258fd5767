using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Versions;

/// <summary>
/// One upgrade, run on each durable transport: the first release registers its consumer groups, its publishers send
/// version 1 events (and a second-release publisher a version 2 one) while no consumer runs, then the latest release
/// starts and reads them all as version 3 through its upcasters, while a service still on version 2 reads the old ones
/// upcast to 2 and dead-letters the version 3 event it cannot read, with the reason.
/// </summary>
internal static class UpgradeScenario
{
    public const string LatestGroup = "upgrade-welcome";
    public const string SecondGroup = "upgrade-audit";

    public static async Task RunAsync(Action<HeraldBuilder> transport)
    {
        // The first release: its handlers register the groups, then it stops.
        await using (HeraldTestHarness first = await HeraldTestHarness.StartAsync(h =>
        {
            transport(h);
            h.AddHandler<UpgradeEvents.FirstWelcome, MemberJoinedV1>(o => o.Group = LatestGroup);
            h.AddHandler<UpgradeEvents.FirstWelcome, MemberJoinedV1>(o => (o.Group, o.Name) = (SecondGroup, "first-audit"));
        }))
        {
        }

        // Old publishers, while no consumer runs: two version 1 events and one version 2 event are left in the log.
        await using (HeraldTestHarness publishers = await HeraldTestHarness.StartAsync(transport))
        {
            await publishers.Bus.PublishAsync(new MemberJoinedV1("m-1", "Ada Lovelace"));
            await publishers.Bus.PublishAsync(new MemberJoinedV1("m-2", "Plato"));
            await publishers.Bus.PublishAsync(new MemberJoinedV2("m-3", "Grace", "Hopper"));
            Assert.Null(publishers.Published[0].DataSchema); // as the first release wrote it
            Assert.Equal("urn:herald:upgrade.member-joined:v2", publishers.Published[2].DataSchema);
        }

        // The latest release, and a service still on the second.
        var seen = new UpgradeEvents.Seen();
        await using HeraldTestHarness latest = await HeraldTestHarness.StartAsync(
            h =>
            {
                transport(h);
                h.Upcasters();
                h.AddHandler<UpgradeEvents.Welcome, MemberJoined>(o => o.Group = LatestGroup);
                h.AddHandler<UpgradeEvents.SecondReleaseAudit, MemberJoinedV2>(o => (o.Group, o.Name) = (SecondGroup, "second-audit"));
            },
            s => s.AddSingleton(seen));
        await latest.Bus.PublishAsync(new MemberJoined("m-4", "Alan", "Turing", "UK"));
        Assert.Equal("urn:herald:upgrade.member-joined:v3", latest.Published[0].DataSchema);

        await Poll.UntilAsync(() => seen.Latest.Count >= 4 && seen.Second.Count >= 3, TimeSpan.FromSeconds(30), () => $"latest saw {seen.Latest.Count} of 4, the second release {seen.Second.Count} of 3");
        Assert.Equal(
            [
                new MemberJoined("m-1", "Ada", "Lovelace", "unknown"),
                new MemberJoined("m-2", "Plato", string.Empty, "unknown"),
                new MemberJoined("m-3", "Grace", "Hopper", "unknown"),
                new MemberJoined("m-4", "Alan", "Turing", "UK"),
            ],
            seen.Latest.OrderBy(e => e.MemberId));
        Assert.Equal(
            [new MemberJoinedV2("m-1", "Ada", "Lovelace"), new MemberJoinedV2("m-2", "Plato", string.Empty), new MemberJoinedV2("m-3", "Grace", "Hopper")],
            seen.Second.OrderBy(e => e.MemberId));

        // The version 3 event is too new for the second release: dead-lettered with the reason, not misread.
        await Poll.UntilAsync(async () => (await latest.DeadLetters.ListAsync(max: 100)).Count > 0, TimeSpan.FromSeconds(30), () => "no dead letter");
        DeadLetter tooNew = Assert.Single(await latest.DeadLetters.ListAsync(max: 100));
        Assert.Equal("urn:herald:upgrade.member-joined:v3", tooNew.Envelope.DataSchema);
        Assert.Equal("second-audit", tooNew.Consumer);
        Assert.Equal("poison", tooNew.Reason);
        Assert.Contains("is version 3", tooNew.ExceptionMessage, StringComparison.Ordinal);
        Assert.Contains("knows version 2", tooNew.ExceptionMessage, StringComparison.Ordinal);
        Assert.Equal(3, seen.Second.Count);
        Assert.Equal(4, seen.Latest.Count);
    }
}
