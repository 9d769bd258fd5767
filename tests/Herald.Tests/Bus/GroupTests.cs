using Herald.Tests.Support;

namespace Herald.Tests.Bus;

public sealed class GroupTests
{
    [Fact]
    public async Task SameGroup_MembersCompete_RoundRobin()
    {
        await using var bus = new EventBus();
        await using var a = bus.Subscribe<Numbered>(new SubscriptionOptions { Group = "email" });
        await using var b = bus.Subscribe<Numbered>(new SubscriptionOptions { Group = "email" });
        await using var audit = bus.Subscribe<Numbered>();

        for (int i = 0; i < 100; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        List<int> fromA = Drain.Queued(a).Select(e => e.Event.Sequence).ToList();
        List<int> fromB = Drain.Queued(b).Select(e => e.Event.Sequence).ToList();
        Assert.Equal(50, fromA.Count);
        Assert.Equal(50, fromB.Count);
        Assert.Equal(Enumerable.Range(0, 100), fromA.Concat(fromB).Order());
        Assert.Equal(100, Drain.Queued(audit).Count);
    }

    [Fact]
    public async Task DifferentGroups_EachGetACopy()
    {
        await using var bus = new EventBus();
        await using var email = bus.Subscribe<UserCreated>(new SubscriptionOptions { Group = "email" });
        await using var points = bus.Subscribe<UserCreated>(new SubscriptionOptions { Group = "points" });

        for (int i = 0; i < 10; i++)
        {
            await bus.PublishAsync(TestEvents.User(i));
        }

        Assert.Equal(10, Drain.Queued(email).Count);
        Assert.Equal(10, Drain.Queued(points).Count);
    }

    [Fact]
    public async Task Group_FullMemberIsSkipped()
    {
        await using var bus = new EventBus();
        await using var small = bus.Subscribe<Numbered>(new SubscriptionOptions { Group = "risk", Capacity = 1, Overflow = Overflow.Reject });
        await using var large = bus.Subscribe<Numbered>(new SubscriptionOptions { Group = "risk", Capacity = 100, Overflow = Overflow.Reject });

        for (int i = 0; i < 50; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        Assert.Equal(1, small.Stats.Queued);
        Assert.Equal(49, large.Stats.Queued);
        Assert.Equal(0, small.Stats.Rejected + large.Stats.Rejected);
    }

    [Fact]
    public async Task Group_AllMembersFull_AppliesPolicy()
    {
        await using var bus = new EventBus();
        await using var a = bus.Subscribe<Numbered>(new SubscriptionOptions { Group = "risk", Capacity = 1, Overflow = Overflow.Reject });
        await using var b = bus.Subscribe<Numbered>(new SubscriptionOptions { Group = "risk", Capacity = 1, Overflow = Overflow.Reject });
        await bus.PublishAsync(new Numbered(0, 0));
        await bus.PublishAsync(new Numbered(0, 1));

        PublishRejectedException ex = await Assert.ThrowsAsync<PublishRejectedException>(async () => await bus.PublishAsync(new Numbered(0, 2)));
        Assert.Equal("risk", ex.Subscription);
    }

    [Fact]
    public async Task Group_MixedTypedAndPatternMembers_OneCopyPerGroup()
    {
        await using var bus = new EventBus();
        await using var typed = bus.Subscribe<UserCreated>(new SubscriptionOptions { Group = "crm" });
        await using var pattern = bus.Subscribe("user.*", new SubscriptionOptions { Group = "crm" });

        for (int i = 0; i < 10; i++)
        {
            await bus.PublishAsync(TestEvents.User(i));
        }

        await bus.PublishAsync(new UserDeleted(1));

        Assert.Equal(11, Drain.Queued(typed).Count + Drain.Queued(pattern).Count);
    }

    [Fact]
    public async Task Group_MemberDisposed_OthersTakeOver()
    {
        await using var bus = new EventBus();
        Subscription<Numbered> leaving = bus.Subscribe<Numbered>(new SubscriptionOptions { Group = "email" });
        await using var staying = bus.Subscribe<Numbered>(new SubscriptionOptions { Group = "email" });
        await leaving.DisposeAsync();

        for (int i = 0; i < 10; i++)
        {
            await bus.PublishAsync(new Numbered(0, i));
        }

        Assert.Equal(10, Drain.Queued(staying).Count);
        Assert.Equal(0, leaving.Stats.Dropped);
    }
}
