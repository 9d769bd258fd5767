using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Herald.Testing.Transports;

/// <summary>Reads one bus's <c>herald.queue.depth</c> gauge per subscription, on demand.</summary>
internal sealed class DepthGauge : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _depths = new(StringComparer.Ordinal);

    public DepthGauge(string bus)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Herald" && instrument.Name == "herald.queue.depth")
            {
                listener.EnableMeasurementEvents(instrument);
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

            if (ofBus == bus && subscription is not null)
            {
                _depths[subscription] = value;
            }
        });
        _listener.Start();
    }

    /// <summary>Observes the gauge now and returns the depth of <paramref name="subscription"/> (0 when it reported none).</summary>
    public long Read(string subscription)
    {
        _listener.RecordObservableInstruments();
        return _depths.GetValueOrDefault(subscription);
    }

    public void Dispose() => _listener.Dispose();
}
