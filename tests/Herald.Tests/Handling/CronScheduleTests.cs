using System.Globalization;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Handling;

public sealed class CronScheduleTests
{
    /// <summary>Central European time with the EU's rules (no dependence on the machine's time zone data).</summary>
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.CreateCustomTimeZone(
        "Test/Berlin",
        TimeSpan.FromHours(1),
        "Test/Berlin",
        "CET",
        "CEST",
        [
            TimeZoneInfo.AdjustmentRule.CreateAdjustmentRule(
                DateTime.MinValue.Date,
                DateTime.MaxValue.Date,
                TimeSpan.FromHours(1),
                TimeZoneInfo.TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 2, 0, 0), 3, 5, DayOfWeek.Sunday),
                TimeZoneInfo.TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 3, 0, 0), 10, 5, DayOfWeek.Sunday)),
        ]);

    [Theory]
    [InlineData("0 3 * * *", "2026-11-23T12:00Z", "2026-11-24T03:00Z")]
    [InlineData("0 3 * * *", "2026-11-24T03:00Z", "2026-11-25T03:00Z")] // strictly after
    [InlineData("*/15 9-17 * * MON-FRI", "2026-11-27T17:50Z", "2026-11-30T09:00Z")] // Friday evening -> Monday
    [InlineData("*/15 9-17 * * mon-fri", "2026-11-30T09:05Z", "2026-11-30T09:15Z")]
    [InlineData("0 0 29 2 *", "2026-11-23T12:00Z", "2028-02-29T00:00Z")]
    [InlineData("30 6 1 JAN,jul *", "2026-11-23T12:00Z", "2027-01-01T06:30Z")]
    [InlineData("0 12 13 * FRI", "2026-11-23T12:00Z", "2026-11-27T12:00Z")] // both day fields: either matches
    [InlineData("0 12 13 * FRI", "2026-12-11T12:00Z", "2026-12-13T12:00Z")]
    [InlineData("0 12 */10 * *", "2026-11-23T12:00Z", "2026-12-01T12:00Z")] // days 1, 11, 21, 31; a star field
    [InlineData("0 0 31 * *", "2026-11-23T12:00Z", "2026-12-31T00:00Z")]
    [InlineData("59 23 31 12 *", "2026-12-31T23:59Z", "2027-12-31T23:59Z")]
    [InlineData("5 4 * * 7", "2026-11-23T12:00Z", "2026-11-29T04:05Z")] // 7 is Sunday
    [InlineData("5 4 * * 0", "2026-11-23T12:00Z", "2026-11-29T04:05Z")]
    [InlineData("10/20 * * * *", "2026-11-23T12:31Z", "2026-11-23T12:50Z")] // 10, 30, 50
    [InlineData("0,30 8-10/2 * * *", "2026-11-23T12:00Z", "2026-11-24T08:00Z")]
    [InlineData("@hourly", "2026-11-23T12:00Z", "2026-11-23T13:00Z")]
    [InlineData("@daily", "2026-11-23T12:00Z", "2026-11-24T00:00Z")]
    [InlineData("@weekly", "2026-11-23T12:00Z", "2026-11-29T00:00Z")]
    [InlineData("@monthly", "2026-11-23T12:00Z", "2026-12-01T00:00Z")]
    [InlineData("@yearly", "2026-11-23T12:00Z", "2027-01-01T00:00Z")]
    public void Next_InUtc_IsTheFirstMatchingMinuteAfter(string expression, string after, string expected)
    {
        DateTimeOffset? next = CronSchedule.Parse(expression).Next(Utc(after), TimeZoneInfo.Utc);
        Assert.Equal(Utc(expected), next);
    }

    [Fact]
    public void Next_InAZone_IsThatZonesWallClock()
    {
        CronSchedule daily = CronSchedule.Parse("0 3 * * *");

        Assert.Equal(Utc("2026-11-24T02:00Z"), daily.Next(Utc("2026-11-23T12:00Z"), Berlin)); // 03:00 CET
        Assert.Equal(Utc("2026-07-02T01:00Z"), daily.Next(Utc("2026-07-01T12:00Z"), Berlin)); // 03:00 CEST
    }

    [Fact]
    public void Next_TimeTheSpringGapSkips_FiresOnceAnHourLaterByTheClock()
    {
        // 2027-03-28: at 02:00 CET the clock jumps to 03:00 CEST, so 02:30 does not exist that night.
        CronSchedule schedule = CronSchedule.Parse("30 2 * * *");

        DateTimeOffset? gapNight = schedule.Next(Utc("2027-03-27T12:00Z"), Berlin);
        Assert.Equal(Utc("2027-03-28T01:30Z"), gapNight); // 03:30 CEST
        Assert.Equal(Utc("2027-03-29T00:30Z"), schedule.Next(gapNight!.Value, Berlin)); // 02:30 CEST the next night
    }

    [Fact]
    public void Next_TimeTheAutumnHourRepeats_FiresOnceAtItsFirstOccurrence()
    {
        // 2026-10-25: at 03:00 CEST the clock goes back to 02:00 CET, so 02:30 happens twice that night.
        CronSchedule schedule = CronSchedule.Parse("30 2 * * *");

        DateTimeOffset? first = schedule.Next(Utc("2026-10-24T12:00Z"), Berlin);
        Assert.Equal(Utc("2026-10-25T00:30Z"), first); // 02:30 CEST
        Assert.Equal(Utc("2026-10-26T01:30Z"), schedule.Next(first!.Value, Berlin)); // not 02:30 CET the same night
    }

    [Fact]
    public void Next_EveryHourScheduleInTheRepeatedAutumnHour_FiresInBothPassesByRealTime()
    {
        CronSchedule halfHourly = CronSchedule.Parse("*/30 * * * *");
        var fired = new List<DateTimeOffset>();
        DateTimeOffset at = Utc("2026-10-24T23:45Z"); // 01:45 CEST
        for (int i = 0; i < 6; i++)
        {
            at = halfHourly.Next(at, Berlin)!.Value;
            fired.Add(at);
        }

        Assert.Equal(
            [
                Utc("2026-10-25T00:00Z"), // 02:00 CEST
                Utc("2026-10-25T00:30Z"), // 02:30 CEST
                Utc("2026-10-25T01:00Z"), // 02:00 CET, the hour again
                Utc("2026-10-25T01:30Z"), // 02:30 CET
                Utc("2026-10-25T02:00Z"), // 03:00 CET
                Utc("2026-10-25T02:30Z"),
            ],
            fired);
    }

    [Theory]
    [InlineData("0 3 * *", "it has 4 fields; a cron expression has 5")]
    [InlineData("0 0 * * * *", "it has 6 fields; a cron expression has 5: minute hour day-of-month month day-of-week (seconds are not supported)")]
    [InlineData("60 * * * *", "the minute 60 is outside 0-59")]
    [InlineData("* 24 * * *", "the hour 24 is outside 0-23")]
    [InlineData("* * 0 * *", "the day of month 0 is outside 1-31")]
    [InlineData("* * * 13 *", "the month 13 is outside 1-12")]
    [InlineData("* * * * MOX", "'MOX' is not a day of week (a number or a name such as MON)")]
    [InlineData("* * * SEPT *", "'SEPT' is not a month (a number or a name such as FEB)")]
    [InlineData("5-1 * * * *", "the minute range '5-1' runs backwards")]
    [InlineData("*/0 * * * *", "the minute step 0 is outside 1-60")]
    [InlineData("1,,2 * * * *", "'' is not a minute")]
    [InlineData("-5 * * * *", "'-5' is not a minute")]
    [InlineData("0 0 30 2 *", "no date has that day in those months, so it would never fire")]
    [InlineData("0 0 31 4,6,9,11 *", "would never fire")]
    [InlineData("@fortnightly", "'@fortnightly' is not one of @yearly")]
    public void Parse_BadExpression_NamesTheProblem(string expression, string problem)
    {
        var ex = Assert.Throws<ArgumentException>(() => CronSchedule.Parse(expression));
        Assert.Contains($"The cron expression '{expression}' is not valid: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cron_BadExpression_FailsInAddHerald()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddHerald(h => h.Cron("0 25 * * *", () => new Heartbeat(1))));
        Assert.Contains("the hour 25 is outside 0-23", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cron_Host_PublishesAtTheNamedTimes()
    {
        var clock = new SignallingTimeProvider(); // 2026-11-23 12:00 UTC
        var probe = new Probe();
        await using HeraldTestHarness harness = await StartDailyAsync(clock, probe);

        Assert.Equal(TimeSpan.FromHours(15), await clock.NextWaitAsync()); // until 03:00 tomorrow
        clock.Advance(TimeSpan.FromHours(15));
        await harness.Consumed<Heartbeat>(e => e.Event.Number == 1);

        Assert.Equal(TimeSpan.FromDays(1), await clock.NextWaitAsync());
        clock.Advance(TimeSpan.FromDays(1));
        await harness.Consumed<Heartbeat>(e => e.Event.Number == 2);

        Assert.Equal([1, 2], probe.Seen.Cast<Heartbeat>().Select(h => h.Number));
    }

    [Fact]
    public async Task Cron_Host_SkipsTimesMissedWhileTheClockJumped()
    {
        var clock = new SignallingTimeProvider();
        var probe = new Probe();
        await using HeraldTestHarness harness = await StartDailyAsync(clock, probe);

        Assert.Equal(TimeSpan.FromHours(15), await clock.NextWaitAsync());
        clock.Advance(TimeSpan.FromHours(15) + TimeSpan.FromDays(3)); // three more 03:00s pass while the process sleeps
        await harness.Consumed<Heartbeat>(e => e.Event.Number == 1);

        Assert.Equal(TimeSpan.FromDays(1), await clock.NextWaitAsync()); // the next 03:00 after now, nothing in between
        Assert.Equal([1], probe.Seen.Cast<Heartbeat>().Select(h => h.Number));
    }

    [Fact]
    public async Task Cron_Host_WaitsForAFarTimeInStepsOfADay()
    {
        var clock = new SignallingTimeProvider(); // 2026-11-23 12:00 UTC; @yearly is 2027-01-01 00:00, 38.5 days on
        var probe = new Probe();
        await using var harness = await HeraldTestHarness.StartAsync(
            h => h.AddHandler<TimeAndReentrancyTests.Recording, Heartbeat>().Cron("@yearly", () => new Heartbeat(2027)),
            s => s.AddSingleton(probe),
            clock);

        for (int day = 0; day < 38; day++)
        {
            Assert.Equal(TimeSpan.FromDays(1), await clock.NextWaitAsync());
            clock.Advance(TimeSpan.FromDays(1));
        }

        Assert.Empty(probe.Seen);
        Assert.Equal(TimeSpan.FromHours(12), await clock.NextWaitAsync());
        clock.Advance(TimeSpan.FromHours(12));
        await harness.Consumed<Heartbeat>(e => e.Event.Number == 2027);
    }

    /// <summary>A host publishing Heartbeat 1, 2, 3... at 03:00 UTC every day, recorded in <paramref name="probe"/>.</summary>
    private static Task<HeraldTestHarness> StartDailyAsync(SignallingTimeProvider clock, Probe probe)
    {
        int number = 0;
        return HeraldTestHarness.StartAsync(
            h => h.AddHandler<TimeAndReentrancyTests.Recording, Heartbeat>().Cron("0 3 * * *", () => new Heartbeat(Interlocked.Increment(ref number))),
            s => s.AddSingleton(probe),
            clock);
    }

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
