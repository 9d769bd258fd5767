using Herald.Dashboard.Systems;
using Herald.Tests.Support;

namespace Herald.Tests.Dashboard;

/// <summary>Issue 17: the live tap was bounded by count only, so a few large payloads held it at gigabytes.</summary>
public sealed class EventTapTests
{
    private static Envelope Sized(int bytes, int n) =>
        new("user.created", null, TestEvents.Now) { Id = $"e{n}", EncodedData = new byte[bytes] };

    [Fact]
    public void LargePayloads_AreDroppedOldestFirst_ToStayWithinTheByteBound()
    {
        var tap = new EventTap(capacity: 1000, TimeProvider.System, maxBytes: 10_000);
        for (int n = 1; n <= 25; n++)
        {
            tap.Add(Sized(1_000, n));
        }

        IReadOnlyList<ObservedEvent> held = tap.Read(0, 1000, null);
        Assert.True(tap.Bytes <= 10_000, $"{tap.Bytes} bytes held");
        Assert.Equal(Enumerable.Range(16, 10).Select(n => $"e{n}"), held.Select(e => e.Envelope.Id));
        Assert.Null(tap.Find("e15"));
        Assert.NotNull(tap.Find("e16"));
        Assert.Equal(10, Assert.Single(tap.Topics()).Count);
        Assert.Equal(25, tap.Head);
    }

    [Fact]
    public void TheRingsOwnEviction_KeepsTheByteCountRight()
    {
        var tap = new EventTap(capacity: 4, TimeProvider.System, maxBytes: 1_000_000);
        for (int n = 1; n <= 10; n++)
        {
            tap.Add(Sized(100, n));
        }

        Assert.Equal(400, tap.Bytes);
        Assert.Equal(["e7", "e8", "e9", "e10"], tap.Read(0, 10, null).Select(e => e.Envelope.Id));
    }

    [Fact]
    public void OneEventLargerThanTheBound_IsStillShown_Alone()
    {
        var tap = new EventTap(capacity: 10, TimeProvider.System, maxBytes: 1_000);
        tap.Add(Sized(100, 1));
        tap.Add(Sized(5_000, 2));

        Assert.Equal(["e2"], tap.Read(0, 10, null).Select(e => e.Envelope.Id));
    }
}
