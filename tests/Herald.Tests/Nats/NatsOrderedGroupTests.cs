using System.Collections.Concurrent;
using System.Globalization;
using Herald.Nats;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using Xunit.Abstractions;

namespace Herald.Tests.Nats;

/// <summary>
/// A group ordered by key with several members on a real nats-server: one member is active (it holds the group's
/// lease), the others wait; a member that stops or dies hands over, and the key's events stay in stream order across
/// the two.
/// </summary>
[Collection(NatsCollection.Name)]
public sealed class NatsOrderedGroupTests(NatsServer server, ITestOutputHelper output)
{
    private const int Keys = 8;
    private readonly string _unique = $"o{Guid.NewGuid():N}"[..12];

    /// <summary>What the members of the test process handled, in the order they finished.</summary>
    public sealed class Log
    {
        public ConcurrentQueue<(string Member, string Key, long Id)> Entries { get; } = new();
    }

    /// <summary>The member's name in the log.</summary>
    public sealed record Member(string Name);

    public sealed class Recorder(Log log, Member member) : IEventHandler<UserCreated>
    {
        public async Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
        {
            await Task.Yield();
            log.Entries.Enqueue((member.Name, context.Key!, context.Event.Id));
        }
    }

    private Task<HeraldTestHarness> StartMemberAsync(Log log, string name, int ackWaitSeconds = 30) =>
        HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseNats(server.Url, o =>
                {
                    o.Stream = _unique.ToUpperInvariant();
                    o.SubjectPrefix = _unique;
                    o.AckWait = TimeSpan.FromSeconds(ackWaitSeconds);
                });
                h.AddHandler<Recorder, UserCreated>(o => { o.Group = "workers"; o.OrderedByKey = true; o.Concurrency = 4; });
            },
            s => s.AddSingleton(log).AddSingleton(new Member(name)));

    private static string KeyOf(long id) => $"k{id % Keys}";

    /// <summary>Returns once a member holds the group's lease (a key in the lease bucket).</summary>
    private async Task ActiveMemberAsync()
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = server.Url });
        var kv = new NatsKVContext(new NatsJSContext(connection));
        await Poll.UntilAsync(
            async () =>
            {
                try
                {
                    INatsKVStore store = await kv.GetStoreAsync(_unique.ToUpperInvariant() + "_LEASES");
                    await foreach (string _ in store.GetKeysAsync())
                    {
                        return true;
                    }
                }
                catch (Exception ex) when (ex is NatsKVException or NatsJSException)
                {
                    // the bucket not made yet, or empty
                }

                return false;
            },
            TimeSpan.FromSeconds(30),
            () => "no member took the ordered group's lease");
    }


    /// <summary>
    /// Two members of an ordered group: only the lease holder handles; when it stops (mid-stream, a thousand events
    /// published), the standby takes over and every key's events are handled once each, in publish order, across both.
    /// </summary>
    [Fact]
    public async Task OneMemberIsActive_AndAStoppedOneHandsOver_WithEveryKeyInOrder()
    {
        const int Count = 1_000;
        var log = new Log();
        // AckWait 5 s: a stop that cannot hand over at once (the server sent a message as the reads stopped) keeps its
        // lease until it runs out (10 s), and that message comes first after it.
        await using HeraldTestHarness a = await StartMemberAsync(log, "a", ackWaitSeconds: 5);
        await using HeraldTestHarness b = await StartMemberAsync(log, "b", ackWaitSeconds: 5);
        HeraldTestHarness publisher = a;
        for (int i = 0; i < 50; i++)
        {
            await publisher.Bus.PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch), new PublishOptions { Key = KeyOf(i) });
        }

        await Poll.UntilAsync(() => log.Entries.Count >= 50, TimeSpan.FromSeconds(30), () => $"{log.Entries.Count} of the first 50 handled");
        string[] first = [.. log.Entries.Select(e => e.Member).Distinct()];
        Assert.Single(first); // one member active, the other a standby
        HeraldTestHarness active = first[0] == "a" ? a : b;
        HeraldTestHarness standby = first[0] == "a" ? b : a;

        // The rest published through the standby (it keeps running), and the active member stopped mid-stream.
        Task publishing = Task.Run(async () =>
        {
            for (int i = 50; i < Count; i++)
            {
                await standby.Bus.PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch), new PublishOptions { Key = KeyOf(i) });
            }
        });
        await Poll.UntilAsync(() => log.Entries.Count >= 300, TimeSpan.FromSeconds(30), () => $"{log.Entries.Count} of 300 handled before the stop");
        await active.DisposeAsync();
        int handledBeforeStop = log.Entries.Count;
        await publishing;

        await Poll.UntilAsync(() => log.Entries.Select(e => e.Id).Distinct().Count() >= Count, TimeSpan.FromSeconds(60),
            () => $"{log.Entries.Select(e => e.Id).Distinct().Count()} of {Count} handled; missing {string.Join(", ", Enumerable.Range(0, Count).Where(i => !log.Entries.Any(e => e.Id == i)).Take(10))}; handled before the stop {handledBeforeStop}");

        (string Member, string Key, long Id)[] entries = [.. log.Entries];
        output.WriteLine($"handled by {first[0]} (stopped after {handledBeforeStop}): {entries.Count(e => e.Member == first[0])}; by the standby: {entries.Count(e => e.Member != first[0])}");

        // Exclusive: once the standby handled its first event, the stopped member handled none.
        int takeover = Array.FindIndex(entries, e => e.Member != first[0]);
        Assert.True(takeover > 0, "the standby never took over");
        Assert.DoesNotContain(entries[takeover..], e => e.Member == first[0]);

        // Every key: each of its events once, in publish order, across the two members.
        foreach (IGrouping<string, (string Member, string Key, long Id)> key in entries.GroupBy(e => e.Key))
        {
            long[] ids = [.. key.Select(e => e.Id)];
            long[] expected = [.. Enumerable.Range(0, Count).Where(i => KeyOf(i) == key.Key).Select(i => (long)i)];
            if (!expected.SequenceEqual(ids))
            {
                output.WriteLine($"key {key.Key}: {string.Join(" ", key.Select(e => $"{e.Id}{e.Member}"))}");
            }

            Assert.Equal(expected, ids);
        }
    }

    /// <summary>
    /// The active member SIGKILLed mid-stream (its deliveries unacknowledged): the standby takes over once the lease runs
    /// out, after the killed member's deliveries are due again, so it handles every key from where the killed one left
    /// off, in order, and handled nothing while the other was alive.
    /// </summary>
    [Fact]
    public async Task AKilledActiveMember_IsTakenOverAfterItsLease_WithEveryKeyInOrder()
    {
        const int Count = 400;
        const int AckWaitSeconds = 2;
        var log = new Log();
        using var child = new ChildProcess("Herald.RabbitChild", server.Url, _unique.ToUpperInvariant(), _unique, AckWaitSeconds.ToString(CultureInfo.InvariantCulture), "ordered");
        await child.WaitForLineAsync(l => l == "READY", TimeSpan.FromSeconds(60));
        await ActiveMemberAsync(); // the child holds the lease before the standby starts (on a busy machine it may not yet at READY)
        await using HeraldTestHarness standby = await StartMemberAsync(log, "standby", AckWaitSeconds);
        for (int i = 0; i < Count; i++)
        {
            await standby.Bus.PublishAsync(new UserCreated(i, "x@y.z", DateTimeOffset.UnixEpoch), new PublishOptions { Key = KeyOf(i) });
        }

        // Killed while its slow handlers (50 ms) are busy and more of its window waits unacknowledged.
        await child.WaitForLineAsync(l => l.StartsWith("H ", StringComparison.Ordinal) && long.Parse(l[2..], CultureInfo.InvariantCulture) >= 40, TimeSpan.FromSeconds(30));
        child.Kill();
        await child.ExitedAsync();
        Assert.Empty(log.Entries); // a standby while the other held the lease
        long killedAt = Environment.TickCount64;

        HashSet<long> finishedThere = [.. child.Lines.Where(l => l.StartsWith("H ", StringComparison.Ordinal)).Select(l => long.Parse(l[2..], CultureInfo.InvariantCulture))];
        await Poll.UntilAsync(
            () => Enumerable.Range(0, Count).All(i => finishedThere.Contains(i) || log.Entries.Any(e => e.Id == i)),
            TimeSpan.FromSeconds(60),
            () => $"not every event was handled: here {log.Entries.Count}, in the killed process {finishedThere.Count}");
        output.WriteLine($"killed after {finishedThere.Count} handled there; the standby's first after {log.Entries.Count} ... {(Environment.TickCount64 - killedAt) / 1000.0:0.0} s, {log.Entries.Count} handled here");

        // Each key, here: strictly increasing and without a gap from where it starts to the key's last event; it
        // starts at or before the key's first event the killed member had not finished.
        foreach (IGrouping<string, (string Member, string Key, long Id)> key in log.Entries.ToArray().GroupBy(e => e.Key))
        {
            long[] ids = [.. key.Select(e => e.Id)];
            long[] all = [.. Enumerable.Range(0, Count).Where(i => KeyOf(i) == key.Key).Select(i => (long)i)];
            long firstUnfinished = all.First(i => !finishedThere.Contains(i));
            Assert.True(ids[0] <= firstUnfinished, $"key {key.Key}: the standby began at {ids[0]}, after {firstUnfinished} which the killed member had not finished");
            Assert.Equal(all.SkipWhile(i => i != ids[0]), ids);
        }
    }

    /// <summary>An existing lease bucket whose age limit is shorter than 1.5 x AckWait is refused at the start, naming the bucket.</summary>
    [Fact]
    public async Task ALeaseBucketShorterThanAckWait_IsRefusedAtTheStart()
    {
        await using (var connection = new NatsConnection(new NatsOpts { Url = server.Url }))
        {
            var kv = new NatsKVContext(new NatsJSContext(connection));
            await kv.CreateStoreAsync(new NatsKVConfig(_unique.ToUpperInvariant() + "_LEASES") { MaxAge = TimeSpan.FromSeconds(10) });
        }

        InvalidOperationException refused = await Assert.ThrowsAsync<InvalidOperationException>(() => StartMemberAsync(new Log(), "a", ackWaitSeconds: 30));
        Assert.Contains(_unique.ToUpperInvariant() + "_LEASES", refused.Message, StringComparison.Ordinal);
        Assert.Contains("AckWait", refused.Message, StringComparison.Ordinal);
    }
}
