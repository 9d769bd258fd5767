using System.Collections.Concurrent;

namespace Registration;

/// <summary>Points per user key.</summary>
public sealed class PointsLedger
{
    private readonly ConcurrentDictionary<string, long> _points = new(StringComparer.Ordinal);

    public long Total => _points.Values.Sum();

    public void Award(string key, long points) => _points.AddOrUpdate(key, points, (_, p) => p + points);
}
