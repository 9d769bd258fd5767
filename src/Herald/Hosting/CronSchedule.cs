using System.Globalization;

namespace Herald;

/// <summary>
/// A five-field cron expression (minute, hour, day of month, month, day of week) and the times it names in a time
/// zone. Fields take <c>*</c>, numbers, ranges <c>a-b</c>, steps <c>*/n</c> <c>a-b/n</c> <c>a/n</c> and lists
/// <c>a,b</c>; months and days also take names (<c>JAN</c>, <c>MON</c>); day of week 0 and 7 are Sunday. When both
/// day fields are restricted, a day matching either one counts (as in Vixie cron). <c>@yearly</c>, <c>@monthly</c>,
/// <c>@weekly</c>, <c>@daily</c> and <c>@hourly</c> stand for their usual expressions.
/// </summary>
/// <remarks>
/// Daylight saving time: a wall-clock time the spring-forward gap skips fires once, an hour later by the clock (as
/// if the clock had not moved yet); a time the fall-back hour repeats fires once, at its first occurrence, unless the
/// hour field is written from <c>*</c> (<c>*/15 * * * *</c>): such a schedule runs by real time, in both passes.
/// </remarks>
internal sealed class CronSchedule
{
    private const int SearchYears = 10;

    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private readonly ulong _minutes;
    private readonly uint _hours;
    private readonly uint _daysOfMonth;
    private readonly ushort _months;
    private readonly byte _daysOfWeek;
    private readonly bool _anyDayOfMonth;
    private readonly bool _anyDayOfWeek;
    private readonly bool _everyHour;

    private CronSchedule(string expression, string[] fields)
    {
        Expression = expression;
        _minutes = Field(expression, fields[0], "minute", 0, 59, null, out _);
        _hours = (uint)Field(expression, fields[1], "hour", 0, 23, null, out _everyHour);
        _daysOfMonth = (uint)Field(expression, fields[2], "day of month", 1, 31, null, out _anyDayOfMonth);
        _months = (ushort)Field(expression, fields[3], "month", 1, 12, MonthNames, out _);
        ulong days = Field(expression, fields[4], "day of week", 0, 7, DayNames, out _anyDayOfWeek);
        _daysOfWeek = (byte)((days | (days >> 7)) & 0x7F); // 7 is Sunday too
    }

    /// <summary>The expression as given.</summary>
    public string Expression { get; }

    /// <summary>Parses <paramref name="expression"/>; throws an <see cref="ArgumentException"/> naming the field and the problem.</summary>
    public static CronSchedule Parse(string expression)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expression);
        string text = expression.Trim().ToUpperInvariant() switch
        {
            "@YEARLY" or "@ANNUALLY" => "0 0 1 1 *",
            "@MONTHLY" => "0 0 1 * *",
            "@WEEKLY" => "0 0 * * 0",
            "@DAILY" or "@MIDNIGHT" => "0 0 * * *",
            "@HOURLY" => "0 * * * *",
            string other when other.StartsWith('@') => throw Bad(expression, $"'{expression.Trim()}' is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"),
            string other => other,
        };
        string[] fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            throw Bad(expression, $"it has {fields.Length} field{(fields.Length == 1 ? string.Empty : "s")}; a cron expression has 5: minute hour day-of-month month day-of-week (seconds are not supported)");
        }

        var schedule = new CronSchedule(expression, fields);
        if (schedule.NextAfter(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Unspecified)) is null)
        {
            throw Bad(expression, "no date has that day in those months, so it would never fire");
        }

        return schedule;
    }

    /// <summary>The first time after <paramref name="after"/> that the expression names in <paramref name="zone"/>; null if none within ten years.</summary>
    public DateTimeOffset? Next(DateTimeOffset after, TimeZoneInfo zone)
    {
        DateTimeOffset wallClock = TimeZoneInfo.ConvertTime(after, zone);
        DateTime local = wallClock.DateTime;
        if (_everyHour && zone.IsAmbiguousTime(wallClock) && NextInRepeatedHour(local, wallClock.Offset, zone) is { } repeated)
        {
            return repeated;
        }

        while (NextAfter(local) is { } candidate)
        {
            DateTimeOffset instant = ToInstant(candidate, zone);
            if (instant > after)
            {
                return instant;
            }

            local = candidate; // the second pass of a repeated hour: its wall-clock times have fired already
        }

        return null;
    }

    /// <inheritdoc />
    public override string ToString() => Expression;

    /// <summary>
    /// For a schedule whose hour field is written from <c>*</c> (it runs by the hour, not at a time of day), from a
    /// time inside a repeated autumn hour: the next time in that hour by real time, through the rest of the pass
    /// <paramref name="local"/> is in and then the whole second pass (as Vixie cron runs such jobs); null when the
    /// hour holds no more.
    /// </summary>
    private DateTimeOffset? NextInRepeatedHour(DateTime local, TimeSpan offset, TimeZoneInfo zone)
    {
        TimeSpan[] offsets = zone.GetAmbiguousTimeOffsets(local);
        TimeSpan first = offsets.Max();
        TimeSpan second = offsets.Min();
        if (NextAfter(local) is { } rest && zone.IsAmbiguousTime(rest))
        {
            return new DateTimeOffset(rest.Ticks - offset.Ticks, TimeSpan.Zero); // later in this pass
        }

        if (offset != first)
        {
            return null; // the second pass is over
        }

        DateTime start = local;
        while (zone.IsAmbiguousTime(start.AddMinutes(-1)))
        {
            start = start.AddMinutes(-1);
        }

        return NextAfter(start.AddMinutes(-1)) is { } again && zone.IsAmbiguousTime(again)
            ? new DateTimeOffset(again.Ticks - second.Ticks, TimeSpan.Zero)
            : null;
    }

    /// <summary>The first wall-clock minute after <paramref name="after"/> that matches, searching ten years.</summary>
    private DateTime? NextAfter(DateTime after)
    {
        var t = new DateTime(after.Year, after.Month, after.Day, after.Hour, after.Minute, 0, DateTimeKind.Unspecified).AddMinutes(1);
        int lastYear = t.Year + SearchYears;
        while (t.Year <= lastYear)
        {
            if ((_months & (1 << t.Month)) == 0)
            {
                t = new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Unspecified).AddMonths(1);
            }
            else if (!DayMatches(t))
            {
                t = t.Date.AddDays(1);
            }
            else if ((_hours & (1u << t.Hour)) == 0)
            {
                t = t.Date.AddHours(t.Hour + 1);
            }
            else if ((_minutes & (1UL << t.Minute)) == 0)
            {
                t = t.AddMinutes(1);
            }
            else
            {
                return t;
            }
        }

        return null;
    }

    private bool DayMatches(DateTime t)
    {
        bool dayOfMonth = (_daysOfMonth & (1u << t.Day)) != 0;
        bool dayOfWeek = (_daysOfWeek & (1 << (int)t.DayOfWeek)) != 0;
        // Vixie cron: a day field written from '*' (also '*/n') takes no part in the "either day field" rule.
        return _anyDayOfMonth || _anyDayOfWeek ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek;
    }

    private static DateTimeOffset ToInstant(DateTime local, TimeZoneInfo zone)
    {
        TimeSpan offset;
        if (zone.IsAmbiguousTime(local))
        {
            offset = zone.GetAmbiguousTimeOffsets(local).Max(); // the first occurrence
        }
        else if (zone.IsInvalidTime(local))
        {
            offset = zone.GetUtcOffset(local.AddHours(-3)); // the offset before the gap: fires as if the clock had not moved yet
        }
        else
        {
            offset = zone.GetUtcOffset(local);
        }

        return new DateTimeOffset(local.Ticks - offset.Ticks, TimeSpan.Zero);
    }

    private static ulong Field(string expression, string field, string name, int min, int max, string[]? names, out bool any)
    {
        any = field.StartsWith('*');
        ulong bits = 0;
        foreach (string item in field.Split(','))
        {
            string range = item;
            int step = 1;
            int slash = item.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                range = item[..slash];
                step = Number(expression, item[(slash + 1)..], name + " step", 1, max - min + 1, null);
            }

            int from, to;
            if (range == "*")
            {
                (from, to) = (min, max);
            }
            else if (range.IndexOf('-', StringComparison.Ordinal) is int dash and > 0)
            {
                from = Number(expression, range[..dash], name, min, max, names);
                to = Number(expression, range[(dash + 1)..], name, min, max, names);
                if (to < from)
                {
                    throw Bad(expression, $"the {name} range '{range}' runs backwards");
                }
            }
            else
            {
                from = Number(expression, range, name, min, max, names);
                to = slash >= 0 ? max : from; // a/n: from a to the end, every n
            }

            for (int value = from; value <= to; value += step)
            {
                bits |= 1UL << value;
            }
        }

        return bits;
    }

    private static int Number(string expression, string text, string name, int min, int max, string[]? names)
    {
        if (names is not null && Array.IndexOf(names, text) is int index and >= 0)
        {
            return index + (names == MonthNames ? 1 : 0);
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
        {
            throw Bad(expression, $"'{text}' is not a {name}" + (names is null ? string.Empty : $" (a number or a name such as {names[1]})"));
        }

        return value >= min && value <= max ? value : throw Bad(expression, $"the {name} {value} is outside {min}-{max}");
    }

    private static ArgumentException Bad(string expression, string problem) =>
        new($"The cron expression '{expression}' is not valid: {problem}.", nameof(expression));
}
