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
        bus.Name = b["Name"] ?? bus.Name;
        bus.Source = b["Source"] ?? bus.Source;
        bus.PublishTimeout = Time(b, "PublishTimeout") ?? bus.PublishTimeout;
        bus.PausedGateCapacity = Int(b, "PausedGateCapacity") ?? bus.PausedGateCapacity;

        IConfigurationSection h = section.GetSection("Host");
        CheckKeys(h, HostKeys);
        host.ShutdownTimeout = Time(h, "ShutdownTimeout") ?? host.ShutdownTimeout;
        host.CancellationGrace = Time(h, "CancellationGrace") ?? host.CancellationGrace;
        host.QueueHighWaterMark = Double(h, "QueueHighWaterMark") ?? host.QueueHighWaterMark;
        host.MaxOldestEventAge = Time(h, "MaxOldestEventAge") ?? host.MaxOldestEventAge;
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
        options.Group = s["Group"] ?? options.Group;
        options.Concurrency = Int(s, "Concurrency") ?? options.Concurrency;
        options.OrderedByKey = Bool(s, "OrderedByKey") ?? options.OrderedByKey;
        options.Timeout = Time(s, "Timeout") ?? options.Timeout;
        options.Capacity = Int(s, "Capacity") ?? options.Capacity;
        options.Overflow = OverflowPolicy(s) ?? options.Overflow;
        options.Idempotent = Bool(s, "Idempotent") ?? options.Idempotent;

        IConfigurationSection r = s.GetSection("Retry");
        if (r.GetChildren().Any())
        {
            CheckKeys(r, RetryKeys);
            RetryPolicy code = options.Retry ?? Retry.Default;
            try
            {
                // Counts and delays from the settings; which exceptions are retried stays the code's choice.
                options.Retry = new RetryPolicy(
                    Int(r, "MaxAttempts") ?? code.MaxAttempts,
                    Time(r, "InitialDelay") ?? code.InitialDelay,
                    Time(r, "MaxDelay") ?? code.MaxDelay,
                    Double(r, "Factor") ?? code.Factor,
                    Double(r, "Jitter") ?? code.Jitter,
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

    private static TimeSpan? Time(IConfigurationSection s, string key) => s[key] is not { } value ? null
        : TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out TimeSpan time) ? time
        : throw Bad(s, key, value, "a time span such as 00:00:30 (30 seconds) or 00:00:00.250 (250 ms)");

    private static int? Int(IConfigurationSection s, string key) => s[key] is not { } value ? null
        : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number) ? number
        : throw Bad(s, key, value, "a whole number");

    private static double? Double(IConfigurationSection s, string key) => s[key] is not { } value ? null
        : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) ? number
        : throw Bad(s, key, value, "a number such as 0.8");

    private static bool? Bool(IConfigurationSection s, string key) => s[key] is not { } value ? null
        : bool.TryParse(value, out bool flag) ? flag
        : throw Bad(s, key, value, "true or false");

    private static Overflow? OverflowPolicy(IConfigurationSection s) => s["Overflow"] is not { } value ? null
        : Enum.TryParse(value, ignoreCase: true, out Overflow overflow) && Enum.IsDefined(overflow) && !int.TryParse(value, out _) ? overflow
        : throw Bad(s, "Overflow", value, "one of " + string.Join(", ", Enum.GetNames<Overflow>()));

    private static InvalidOperationException Bad(IConfigurationSection s, string key, string value, string expected) =>
        Bad(ConfigurationPath.Combine(s.Path, key), value, expected);

    private static InvalidOperationException Bad(string path, string value, string expected) =>
        new($"Herald's setting '{path}' is '{value}'; expected {expected}.");
}
