using Herald.Sqlite;
using Herald.Testing;
using Herald.Transport;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Sqlite;

public sealed class InboxHintsTests : IDisposable
{
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public void AHint_AnswersOnce_AndOnlyWhenNothingOfThatIdWasCommittedAfterTheRead()
    {
        var hints = new InboxHints(InboxHints.MaxAge);
        long before = hints.Snapshot();
        hints.Unrecorded("risk", "a", before);
        hints.Unrecorded("risk", "b", before);
        Assert.True(hints.TakeUnrecorded("risk", "a"));
        Assert.False(hints.TakeUnrecorded("risk", "a")); // used up
        Assert.False(hints.TakeUnrecorded("points", "b")); // another consumer's: never made

        hints.Committed("risk", "b"); // committed after the read that made b's hint: the read may not have seen it
        Assert.False(hints.TakeUnrecorded("risk", "b"));

        long after = hints.Snapshot(); // a read that began after that commit saw it, and found it; a hint for c is fine
        hints.Unrecorded("risk", "c", after);
        hints.Committed("risk", "d");
        Assert.True(hints.TakeUnrecorded("risk", "c"));

        hints.Unrecorded("risk", "e", after);
        hints.Forget("risk", "e");
        Assert.False(hints.TakeUnrecorded("risk", "e"));
    }

    [Fact]
    public void ARecordCommittedAfterTheRead_IsNeverForgotten_HoweverManyCommitsFollow()
    {
        var hints = new InboxHints(InboxHints.MaxAge);
        long snapshot = hints.Snapshot();
        hints.Unrecorded("risk", "x", snapshot);
        hints.Committed("risk", "x"); // another delivery of x recorded it after the read
        for (int i = 0; i < 200_000; i++)
        {
            hints.Committed("risk", $"other-{i}"); // more than the table has buckets: every bucket is overwritten
        }

        Assert.False(hints.TakeUnrecorded("risk", "x"));
    }

    [Fact]
    public void RecordsOfOtherIds_LeaveMostHintsTrusted()
    {
        // The table is lossy: another id in the same bucket makes a hint untrusted (the step then looks in the table).
        // A few hundred commits between a read and its deliveries must leave nearly every hint usable.
        var hints = new InboxHints(InboxHints.MaxAge);
        long snapshot = hints.Snapshot();
        for (int i = 0; i < 1_000; i++)
        {
            hints.Unrecorded("risk", $"read-{i}", snapshot);
        }

        for (int i = 0; i < 500; i++)
        {
            hints.Committed("risk", $"other-{i}");
        }

        int trusted = Enumerable.Range(0, 1_000).Count(i => hints.TakeUnrecorded("risk", $"read-{i}"));
        Assert.InRange(trusted, 960, 1_000); // ~0.8% expected to share a bucket with one of the 500
    }

    [Fact]
    public async Task OneEventIdPublishedManyTimes_WhileDeliveriesRun_IsHandledOncePerGroup()
    {
        // 200 envelopes, each published eight times over, concurrently, with the readers' hints in play: each group
        // handles each id once, the rest are duplicates.
        var seen = new Seen();
        await using HeraldTestHarness harness = await HeraldTestHarness.StartAsync(
            h =>
            {
                h.UseSqlite(_db.ConnectionString, o => o.Synchronous = SqliteSynchronous.Normal);
                h.AddHandler<Email, UserCreated>(o => o.Concurrency = 4);
                h.AddHandler<Points, UserCreated>(o => o.Concurrency = 4);
            },
            s => s.AddSingleton(seen));
        for (int round = 0; round < 4; round++)
        {
            Envelope[] events = [.. Enumerable.Range(1 + (round * 50), 50).Select(i => new Envelope("user.created", TestEvents.User(i), TestEvents.Now))];
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                foreach (Envelope e in events)
                {
                    await harness.Bus.PublishAsync(e);
                }
            })));
        }

        await harness.DeliveriesAsync(d => d.Outcome is DeliveryOutcome.Handled or DeliveryOutcome.Duplicate, 4 * 50 * 8 * 2);
        Assert.Equal(200, seen.Email.Count);
        Assert.Equal(200, seen.Points.Count);
        Assert.All(seen.Email.Values.Concat(seen.Points.Values), n => Assert.Equal(1, n));
    }
}
