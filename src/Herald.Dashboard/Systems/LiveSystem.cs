using Microsoft.Extensions.DependencyInjection;

namespace Herald.Dashboard.Systems;

/// <summary>
/// The application's own Herald (the dashboard mounted in it): its bus, handler host, dead letters and gates. Events
/// are seen from the moment the view starts (the bus keeps no log of its own: a tap of the newest events), deliveries
/// and handler latencies through Herald's activities.
/// </summary>
internal sealed class LiveSystem : HeraldSystem
{
    private readonly EventBus _bus;
    private readonly HandlerHost? _host;
    private readonly DeadLetters? _deadLetters;
    private readonly IDeadLetterStore? _store;
    private readonly EventTap _tap;
    private readonly IDisposable _observing;
    private readonly DeliveryRecorder _recorder;

    public LiveSystem(IServiceProvider services, int capacity)
    {
        _bus = services.GetRequiredService<EventBus>();
        _host = services.GetService<HandlerHost>();
        _deadLetters = services.GetService<DeadLetters>();
        _store = services.GetService<IDeadLetterStore>();
        _tap = new EventTap(capacity, _bus.TimeProvider);
        _observing = _bus.Observe(_tap.Add);
        _recorder = new DeliveryRecorder(capacity);
    }

    public override string Name => $"bus {_bus.Name}";

    public override bool HasLog => false;

    public override TopicGates? Gates => _bus.Gates;

    public override Task<long> GetHeadAsync(CancellationToken cancellationToken) => Task.FromResult(_tap.Head);

    public override Task<IReadOnlyList<ObservedEvent>> ReadEventsAsync(long after, int max, TopicPattern? pattern, CancellationToken cancellationToken) =>
        Task.FromResult(_tap.Read(after, max, pattern));

    public override Task<IReadOnlyList<ObservedEvent>> ReadLatestAsync(int max, TopicPattern? pattern, CancellationToken cancellationToken) =>
        Task.FromResult(_tap.ReadLatest(max, pattern));

    public override async Task<EventDetail?> GetEventAsync(string id, CancellationToken cancellationToken)
    {
        if (_tap.Find(id) is not { } found)
        {
            return null;
        }

        var deliveries = _recorder.For(id).ToList();
        foreach (DeadLetter letter in await ListDeadLettersAsync(TopicPattern.Parse(found.Envelope.Type), 10_000, cancellationToken).ConfigureAwait(false))
        {
            if (letter.Envelope.Id == id)
            {
                deliveries.Add(new DeliveryView(letter.Consumer, "in dead letters", letter.Attempts, letter.Reason));
            }
        }

        return new EventDetail(found, deliveries);
    }

    public override Task PublishAsync(Envelope envelope, CancellationToken cancellationToken) => _bus.PublishAsync(envelope, cancellationToken).AsTask();

    public override async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(TopicPattern? pattern, int max, CancellationToken cancellationToken) =>
        _deadLetters is null ? [] : await _deadLetters.ListAsync(pattern?.Value, max, cancellationToken).ConfigureAwait(false);

    public override async Task<DeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken) =>
        _deadLetters is null ? null : await _deadLetters.GetAsync(id, cancellationToken).ConfigureAwait(false);

    public override async Task<bool> RedriveAsync(string id, CancellationToken cancellationToken) =>
        _deadLetters is not null && await _deadLetters.RedriveAsync(id, cancellationToken).ConfigureAwait(false);

    public override async Task<bool> PurgeAsync(string id, CancellationToken cancellationToken) =>
        _store is not null && await _store.RemoveAsync(id, cancellationToken).ConfigureAwait(false);

    public override Task<TopologyView> GetTopologyAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<ConsumerInfo> consumers = _host?.Consumers ?? [];
        var groups = consumers
            .GroupBy(c => c.Handler.Group, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new GroupView(
                g.Key,
                g.Sum(c => (long)c.Queue.Queued),
                null,
                null,
                [.. g.Select(c => new MemberView(c.Handler.Name, c.Handler.Pattern.Value, c.Handler.EventType?.FullName))],
                new Dictionary<string, long>())
            {
                Details = new Dictionary<string, string>
                {
                    ["handled"] = g.Sum(c => c.Stats.Handled).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["dead-lettered"] = g.Sum(c => c.Stats.DeadLettered).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["in flight"] = g.Sum(c => c.Stats.InFlight).ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
            })
            .ToList();
        return Task.FromResult(new TopologyView(_tap.Topics(), groups));
    }

    public override Task<Counters> ReadCountersAsync(CancellationToken cancellationToken)
    {
        long handled = (_host?.Consumers ?? []).Sum(c => c.Stats.Handled);
        return Task.FromResult(new Counters(_bus.Stats.Published, handled, _recorder.DrainLatencies()));
    }

    public void Dispose()
    {
        _observing.Dispose();
        _recorder.Dispose();
    }

    public override ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
