namespace Herald.Tests.Versions;

public sealed record MemberStateV1(string Name, int Visits);

public sealed record MemberStateV2(string First, string Last, int Visits);

public sealed record MemberState(string First, string Last, int Visits, string Tier);

/// <summary>Snapshots saved by three releases of an aggregate's state, read by the latest (run on each event store).</summary>
internal static class SnapshotUpgrade
{
    private static MemberStateV2 ToV2(MemberStateV1 v1)
    {
        string[] names = v1.Name.Split(' ', 2);
        return new MemberStateV2(names[0], names.Length > 1 ? names[1] : string.Empty, v1.Visits);
    }

    private static MemberState ToV3(MemberStateV2 v2) => new(v2.First, v2.Last, v2.Visits, v2.Visits >= 10 ? "gold" : "basic");

    public static async Task RunAsync(IEventStore store)
    {
        string run = Guid.NewGuid().ToString("N")[..8];

        // The first release saved version 1 states.
        await store.SaveSnapshotAsync(new Snapshot<MemberStateV1>($"member-{run}-a", 4, new MemberStateV1("Ada Lovelace", 12)));

        // The second renamed its state, registered 1 -> 2, and saved version 2 states.
        EventUpcasters.RegisterSnapshot<MemberStateV1, MemberStateV2>(ToV2);
        await store.SaveSnapshotAsync(new Snapshot<MemberStateV2>($"member-{run}-b", 7, new MemberStateV2("Grace", "Hopper", 3)));

        // The latest adds 2 -> 3 and reads both, through one step or two.
        EventUpcasters.RegisterSnapshot<MemberStateV2, MemberState>(ToV3);
        Assert.Equal(new Snapshot<MemberState>($"member-{run}-a", 4, new MemberState("Ada", "Lovelace", 12, "gold")), await store.LoadSnapshotAsync<MemberState>($"member-{run}-a"));
        Assert.Equal(new Snapshot<MemberState>($"member-{run}-b", 7, new MemberState("Grace", "Hopper", 3, "basic")), await store.LoadSnapshotAsync<MemberState>($"member-{run}-b"));
        Assert.Equal(new MemberStateV2("Ada", "Lovelace", 12), (await store.LoadSnapshotAsync<MemberStateV2>($"member-{run}-a"))!.State);

        // Saved by the latest, a state the second release cannot read: not read (its aggregate loads from its events).
        await store.SaveSnapshotAsync(new Snapshot<MemberState>($"member-{run}-c", 2, new MemberState("Alan", "Turing", 1, "basic")));
        Assert.Null(await store.LoadSnapshotAsync<MemberStateV2>($"member-{run}-c"));
        Assert.Equal("Turing", (await store.LoadSnapshotAsync<MemberState>($"member-{run}-c"))!.State.Last);

        // The second release, still running during a rolling deploy, does not overwrite it with an older state version.
        await store.SaveSnapshotAsync(new Snapshot<MemberStateV2>($"member-{run}-c", 9, new MemberStateV2("Alan", "Turing", 5)));
        Assert.Equal(new Snapshot<MemberState>($"member-{run}-c", 2, new MemberState("Alan", "Turing", 1, "basic")), await store.LoadSnapshotAsync<MemberState>($"member-{run}-c"));
    }
}
