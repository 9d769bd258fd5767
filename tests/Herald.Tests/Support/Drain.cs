namespace Herald.Tests.Support;

public static class Drain
{
    /// <summary>Takes every event already queued, without waiting.</summary>
    public static List<EventContext<T>> Queued<T>(Subscription<T> subscription)
    {
        var items = new List<EventContext<T>>();
        while (subscription.TryRead(out EventContext<T> item))
        {
            items.Add(item);
        }

        return items;
    }

    /// <summary>Reads exactly <paramref name="count"/> events, failing after a generous deadline instead of hanging.</summary>
    public static async Task<List<EventContext<T>>> ReadAsync<T>(Subscription<T> subscription, int count, int seconds = 30)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var items = new List<EventContext<T>>(count);
        await foreach (EventContext<T> item in subscription.ReadAllAsync(deadline.Token))
        {
            items.Add(item);
            if (items.Count == count)
            {
                break;
            }
        }

        return items;
    }
}
