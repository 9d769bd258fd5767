using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Herald.Testing.Transports;

/// <summary>
/// Reads one of Herald's instruments for one bus: a counter's total, or a gauge's last value per subscription
/// (observed on demand). Other buses in the process, and other instruments, are ignored.
/// </summary>
internal sealed class BusMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _bySubscription = new(StringComparer.Ordinal);
    private long _total;

    public BusMeter(string bus, string instrument)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Meter.Name == "Herald" && published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? ofBus = null, subscription = null;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "herald.bus")
                {
                    ofBus = tag.Value as string;
                }
                else if (tag.Key == "herald.subscription")
                {
                    subscription = tag.Value as string;
                }
            }

            if (ofBus != bus)
            {
                return;
            }

            Interlocked.Add(ref _total, value);
            if (subscription is not null)
            {
                _bySubscription[subscription] = value;
            }
        });
        _listener.Start();
    }

    /// <summary>The sum of the counter's measurements so far.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>Observes a gauge now and returns its value for <paramref name="subscription"/> (0 when it reported none).</summary>
    public long Read(string subscription)
    {
        _listener.RecordObservableInstruments();
        return _bySubscription.GetValueOrDefault(subscription);
    }

    public void Dispose() => _listener.Dispose();
}
