using System.Collections.Concurrent;

namespace Herald.Tests.Versions;

// Three generations of one event, as three releases of a service declared it. The first release had no version on
// its attribute: what it published carries no dataschema, which reads as version 1.
[Topic("upgrade.member-joined")]
public sealed record MemberJoinedV1(string MemberId, string FullName);

[Topic("upgrade.member-joined", Version = 2)]
public sealed record MemberJoinedV2(string MemberId, string FirstName, string LastName);

[Topic("upgrade.member-joined", Version = 3)]
public sealed record MemberJoined(string MemberId, string FirstName, string LastName, string Country);

/// <summary>The upcasters of the latest release, and the handlers each release ran.</summary>
public static class UpgradeEvents
{
    public static MemberJoinedV2 ToV2(MemberJoinedV1 v1)
    {
        string[] names = v1.FullName.Split(' ', 2);
        return new MemberJoinedV2(v1.MemberId, names[0], names.Length > 1 ? names[1] : string.Empty);
    }

    public static MemberJoined ToV3(MemberJoinedV2 v2) => new(v2.MemberId, v2.FirstName, v2.LastName, Country: "unknown");

    /// <summary>Registers the latest release's upcasters, as its <c>AddHerald</c> would.</summary>
    public static HeraldBuilder Upcasters(this HeraldBuilder h) => h.Upcast<MemberJoinedV1, MemberJoinedV2>(ToV2).Upcast<MemberJoinedV2, MemberJoined>(ToV3);

    /// <summary>What the handlers of the latest release saw.</summary>
    public sealed class Seen
    {
        public ConcurrentQueue<MemberJoined> Latest { get; } = new();

        public ConcurrentQueue<MemberJoinedV2> Second { get; } = new();
    }

    /// <summary>The first release's handler: never runs in these tests (it only registers its group).</summary>
    public sealed class FirstWelcome : IEventHandler<MemberJoinedV1>
    {
        public Task HandleAsync(EventContext<MemberJoinedV1> context, CancellationToken cancellationToken) => throw new InvalidOperationException("the first release does not run here");
    }

    /// <summary>The latest release's handler (version 3).</summary>
    public sealed class Welcome(Seen seen) : IEventHandler<MemberJoined>
    {
        public Task HandleAsync(EventContext<MemberJoined> context, CancellationToken cancellationToken)
        {
            seen.Latest.Enqueue(context.Event);
            return Task.CompletedTask;
        }
    }

    /// <summary>A service still on the second release (version 2) reading the same topic.</summary>
    public sealed class SecondReleaseAudit(Seen seen) : IEventHandler<MemberJoinedV2>
    {
        public Task HandleAsync(EventContext<MemberJoinedV2> context, CancellationToken cancellationToken)
        {
            seen.Second.Enqueue(context.Event);
            return Task.CompletedTask;
        }
    }
}
