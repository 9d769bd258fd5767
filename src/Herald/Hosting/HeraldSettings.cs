using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Herald;

/// <summary>
/// Reads Herald's settings from a configuration section (for example the <c>Herald</c> section of appsettings.json)
/// over what code set: <c>Bus</c>, <c>Host</c>, and <c>Handlers:{name}</c>. Read once, when <c>AddHerald</c> runs.
/// Every key is checked: an unknown key, a value that does not parse, or a handler name nobody registered throws,
/// naming the key's full path, so a typo in a deployment's settings fails at startup instead of being ignored.
/// </summary>
internal sealed class HeraldSettings(IConfiguration section)
{
    private static readonly string[] BusKeys = ["Name", "Source", "PublishTimeout", "PausedGateCapacity"];
    private static readonly string[] HostKeys = ["ShutdownTimeout", "CancellationGrace", "QueueHighWaterMark", "MaxOldestEventAge"];
    private static readonly string[] HandlerKeys = ["Group", "Concurrency", "OrderedByKey", "Timeout", "Retry", "Capacity", "Overflow", "Idempotent"];
    private static readonly string[] RetryKeys = ["MaxAttempts", "InitialDelay", "MaxDelay", "Factor", "Jitter"];
    private static readonly string[] TopKeys = ["Bus", "Host", "Handlers"];
    private static readonly string[] Sections = ["Bus", "Host", "Handlers", "Retry"];

    /// <summary>Applies the <c>Bus</c> and <c>Host</c> sections and checks the top level's keys.</summary>
    public void Apply(EventBusOptions bus, HeraldHostOptions host)
    {
        CheckKeys(section, TopKeys);
        IConfigurationSection b = section.GetSection("Bus");
        CheckKeys(b, BusKeys);
        Set(b, "Name", v => bus.Name = v);
        Set(b, "Source", v => bus.Source = v);
        Set(b, "PublishTimeout", v => bus.PublishTimeout = ParseTime(b, "PublishTimeout", v));
        Set(b, "PausedGateCapacity", v => bus.PausedGateCapacity = ParseInt(b, "PausedGateCapacity", v));

        IConfigurationSection h = section.GetSection("Host");
        CheckKeys(h, HostKeys);
        Set(h, "ShutdownTimeout", v => host.ShutdownTimeout = ParseTime(h, "ShutdownTimeout", v));
        Set(h, "CancellationGrace", v => host.CancellationGrace = ParseTime(h, "CancellationGrace", v));
        Set(h, "QueueHighWaterMark", v => host.QueueHighWaterMark = ParseDouble(h, "QueueHighWaterMark", v));
        Set(h, "MaxOldestEventAge", v => host.MaxOldestEventAge = ParseTime(h, "MaxOldestEventAge", v));
    }

    /// <summary>Applies <c>Handlers:{name}</c> to one handler's options, after the code's own settings.</summary>
    public void Apply(string handler, HandlerOptions options)
    {
        IConfigurationSection s = section.GetSection("Handlers").GetSection(handler);
        if (!s.GetChildren().Any())
        {
            return;
        }

        CheckKeys(s, HandlerKeys);
        Set(s, "Group", v => options.Group = v);
        Set(s, "Concurrency", v => options.Concurrency = ParseInt(s, "Concurrency", v));
        Set(s, "OrderedByKey", v => options.OrderedByKey = ParseBool(s, "OrderedByKey", v));
        Set(s, "Timeout", v => options.Timeout = ParseTime(s, "Timeout", v));
        Set(s, "Capacity", v => options.Capacity = ParseInt(s, "Capacity", v));
        Set(s, "Overflow", v => options.Overflow = ParseOverflow(s, v));
        Set(s, "Idempotent", v => options.Idempotent = ParseBool(s, "Idempotent", v));

        IConfigurationSection r = s.GetSection("Retry");
        if (r.GetChildren().Any())
        {
            CheckKeys(r, RetryKeys);
            RetryPolicy code = options.Retry ?? Retry.Default;
            try
            {
                options.Retry = new RetryPolicy(
                    r["MaxAttempts"] is { } attempts ? ParseInt(r, "MaxAttempts", attempts) : code.MaxAttempts,
                    r["InitialDelay"] is { } initial ? ParseTime(r, "InitialDelay", initial) : code.InitialDelay,
                    r["MaxDelay"] is { } max ? ParseTime(r, "MaxDelay", max) : code.MaxDelay,
                    r["Factor"] is { } factor ? ParseDouble(r, "Factor", factor) : code.Factor,
                    r["Jitter"] is { } jitter ? ParseDouble(r, "Jitter", jitter) : code.Jitter,
                    code.Retryable);
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw new InvalidOperationException($"Herald's setting '{r.Path}' makes no retry policy: {ex.Message}", ex);
            }
        }
    }

    /// <summary>Throws when <c>Handlers</c> names a handler that no registration has.</summary>
    public void CheckHandlers(IEnumerable<string> registered)
    {
        string[] names = [.. registered];
        foreach (IConfigurationSection child in section.GetSection("Handlers").GetChildren())
        {
            if (!string.IsNullOrEmpty(child.Value))
            {
                throw Bad(child.Path, child.Value, "a section of the handler's settings: " + string.Join(", ", HandlerKeys));
            }

            if (!names.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"Herald's settings configure handler '{child.Key}' ({child.Path}), but no handler has that name. "
                    + $"Registered: {(names.Length == 0 ? "none" : string.Join(", ", names))}.");
            }
        }
    }

    private static void Set(IConfigurationSection s, string key, Action<string> apply)
    {
        if (s[key] is { } value)
        {
            apply(value);
        }
    }

    private static void CheckKeys(IConfiguration s, string[] known)
    {
        foreach (IConfigurationSection child in s.GetChildren())
        {
            if (!known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"Herald's settings have an unknown key '{child.Path}'. Known here: {string.Join(", ", known)}.");
            }

            if (child.Value is not null && Sections.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                throw Bad(child.Path, child.Value, "a section, not a single value");
            }
        }
    }

    private static TimeSpan ParseTime(IConfigurationSection s, string key, string value) =>
        TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out TimeSpan time) ? time : throw Bad(Path(s, key), value, "a time span such as 00:00:30 (30 seconds) or 00:00:00.250 (250 ms)");

    private static int ParseInt(IConfigurationSection s, string key, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number) ? number : throw Bad(Path(s, key), value, "a whole number");

    private static double ParseDouble(IConfigurationSection s, string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) ? number : throw Bad(Path(s, key), value, "a number such as 0.8");

    private static bool ParseBool(IConfigurationSection s, string key, string value) =>
        bool.TryParse(value, out bool flag) ? flag : throw Bad(Path(s, key), value, "true or false");

    private static Overflow ParseOverflow(IConfigurationSection s, string value) =>
        Enum.TryParse(value, ignoreCase: true, out Overflow overflow) && Enum.IsDefined(overflow) && !int.TryParse(value, out _)
            ? overflow
            : throw Bad(Path(s, "Overflow"), value, "one of " + string.Join(", ", Enum.GetNames<Overflow>()));

    private static string Path(IConfigurationSection s, string key) => ConfigurationPath.Combine(s.Path, key);

    private static InvalidOperationException Bad(string path, string value, string expected) =>
        new($"Herald's setting '{path}' is '{value}'; expected {expected}.");
}
