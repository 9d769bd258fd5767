using Herald.Tests.Support;

namespace Herald.Tests.Bus;

/// <summary>
/// Issue 17: an in-memory delay beyond the timer's maximum (~49.7 days) threw to the publisher although the event stayed
/// queued (a retry duplicated it), and the delayed queue had no bound.
/// </summary>
public sealed class DelayedLimitsTests
{
    [Fact]
    public async Task Delay_BeyondTheTimersMaximum_IsAccepted_AndHeldOnce()
    {
        await using var bus = new EventBus(new EventBusOptions());

        await bus.PublishAsync(new Numbered(0, 1), new PublishOptions { Delay = TimeSpan.FromDays(60) });

        Assert.Equal(1, bus.Stats.Delayed);
        Assert.Equal(1, bus.Stats.Published);
    }

    [Fact]
    public async Task Delay_BeyondDelayedCapacity_IsRejectedNamingIt_AndNothingIsHeld()
    {
        await using var bus = new EventBus(new EventBusOptions { DelayedCapacity = 2 });
        var later = new PublishOptions { Delay = TimeSpan.FromMinutes(5) };
        await bus.PublishAsync(new Numbered(0, 1), later);
        await bus.PublishAsync(new Numbered(0, 2), later);

        PublishRejectedException rejected = await Assert.ThrowsAsync<PublishRejectedException>(async () => await bus.PublishAsync(new Numbered(0, 3), later));

        Assert.Contains("DelayedCapacity", rejected.Message, StringComparison.Ordinal);
        Assert.Equal(2, bus.Stats.Delayed);
        Assert.Equal(2, bus.Stats.Published);
    }

    [Fact]
    public void DelayedCapacity_BelowOne_IsRefusedWhenTheBusIsMade()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new EventBus(new EventBusOptions { DelayedCapacity = 0 }));
        Assert.Contains("DelayedCapacity", ex.Message, StringComparison.Ordinal);
    }
}
