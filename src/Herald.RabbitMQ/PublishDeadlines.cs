namespace Herald.RabbitMQ;

/// <summary>
/// Cancellation at a publish's deadline without a timer per publish: publishes that start within the same
/// <see cref="Granularity"/> share one token, cancelled <c>timeout + Granularity</c> after the first of them started.
/// A publish is so cancelled no earlier than its own timeout and at most <see cref="Granularity"/> after it. With many
/// publishes in flight a timer each (and a linked source each) was a lock on the runtime's timer queue per publish.
/// </summary>
internal sealed class PublishDeadlines(TimeSpan timeout, TimeProvider time)
{
    /// <summary>How late a deadline may fire.</summary>
    public static readonly TimeSpan Granularity = TimeSpan.FromMilliseconds(100);

    private readonly Lock _lock = new();
    private Bucket? _current;

    /// <summary>A token cancelled between <c>timeout</c> and <c>timeout + Granularity</c> from now.</summary>
    public CancellationToken Next()
    {
        long now = time.GetTimestamp();
        Bucket? bucket = Volatile.Read(ref _current);
        if (bucket is not null && time.GetElapsedTime(bucket.Opened, now) < Granularity)
        {
            return bucket.Token;
        }

        lock (_lock)
        {
            bucket = _current;
            if (bucket is null || time.GetElapsedTime(bucket.Opened, now) >= Granularity)
            {
                // The previous bucket's source cancels itself when its time comes (and its timer goes with it).
                bucket = new Bucket(now, new CancellationTokenSource(timeout + Granularity, time));
                Volatile.Write(ref _current, bucket);
            }

            return bucket.Token;
        }
    }

    private sealed class Bucket(long opened, CancellationTokenSource source)
    {
        public long Opened => opened;

        public CancellationToken Token { get; } = source.Token;
    }
}
