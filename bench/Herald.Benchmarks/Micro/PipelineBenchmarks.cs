using BenchmarkDotNet.Attributes;
using Herald.Handling;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Benchmarks.Micro;

/// <summary>
/// One delivery through the handler pipeline with a handler that does nothing: no step, each built-in step alone,
/// and all eight; plus what a DI scope per delivery costs on its own.
/// </summary>
[Config(typeof(MicroConfig))]
public class PipelineBenchmarks
{
    private ServiceProvider _services = null!;
    private DeliveryDelegate _pipeline = null!;
    private DeliveryContext _context = null!;
    private AttemptTimeouts _timeouts = null!;
    private Envelope _envelope = null!;
    private long _sequence;

    [Params("none", "tracing", "metrics", "logging", "isolation", "dead-letter", "idempotency", "retry", "timeout", "all")]
    public string Steps { get; set; } = "none";

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        HeraldBuilder? captured = null;
        services.AddHerald(h =>
        {
            h.AddHandler<NoopHandler, MicroEvent>();
            captured = h;
        });
        _services = services.BuildServiceProvider();
        IEnumerable<PipelineStep> steps = Steps switch
        {
            "none" => [],
            "all" => captured!.Pipeline,
            _ => captured!.Pipeline.Where(s => s.Name == Steps),
        };
        IDeliveryMiddleware[] middleware = [.. steps.Select(s => s.Create(_services))];
        _pipeline = PipelineComposer.Compose(middleware, HandlerInvoker<NoopHandler, MicroEvent>.InvokeAsync); // as the host composes it
        var descriptor = new HandlerDescriptor("noop", typeof(NoopHandler), typeof(MicroEvent), TopicPattern.Parse("user.created"), new HandlerOptions());
        _envelope = new Envelope("user.created", new MicroEvent(1), DateTimeOffset.UnixEpoch, topicChecked: true);
        _timeouts = new AttemptTimeouts(TimeProvider.System, CancellationToken.None);
        _context = new DeliveryContext(_envelope, descriptor, _services, TimeProvider.System, CancellationToken.None) { Timeouts = _timeouts };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _timeouts.Dispose();
        _services.Dispose();
    }

    [Benchmark]
    public ValueTask Deliver()
    {
        // A new event id each time, so the idempotency step claims rather than skips.
        var envelope = new Envelope("user.created", _envelope.Data, DateTimeOffset.UnixEpoch, topicChecked: true) { Id = (++_sequence).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        _context.Reset(envelope, _services);
        return _pipeline(_context);
    }

    public sealed class NoopHandler : IEventHandler<MicroEvent>
    {
        public Task HandleAsync(EventContext<MicroEvent> context, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
