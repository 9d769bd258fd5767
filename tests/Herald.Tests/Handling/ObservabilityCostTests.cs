using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Herald.Diagnostics;
using Herald.Handling;
using Herald.Handling.Middleware;
using Herald.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Herald.Tests.Handling;

/// <summary>
/// The pipeline's logging, tracing and metrics steps cost nothing when nobody looks (no allocation, no log scope, no
/// activity), and do their work when someone does: measured on the steps as the pipeline composes them.
/// </summary>
[Collection(ListenersCollection.Name)]
public sealed class ObservabilityCostTests
{
    /// <summary>A logging provider as the console's is seen by the factory: it records scopes and lines it is given.</summary>
    private sealed class Recorder : ILoggerProvider
    {
        public ConcurrentQueue<object> Scopes { get; } = new();

        public ConcurrentQueue<(LogLevel Level, int Id, string Message, object[] Scopes)> Lines { get; } = new();

        private readonly AsyncLocal<ImmutableStack?> _open = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed record ImmutableStack(object Top, ImmutableStack? Rest);

        private sealed class Logger(Recorder owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
            {
                owner.Scopes.Enqueue(state);
                ImmutableStack? before = owner._open.Value;
                owner._open.Value = new ImmutableStack(state, before);
                return new Pop(owner, before);
            }

            public bool IsEnabled(LogLevel logLevel) => true; // the factory's filter decides, as in a host

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scopes = new List<object>();
                for (ImmutableStack? s = owner._open.Value; s is not null; s = s.Rest)
                {
                    scopes.Add(s.Top);
                }

                owner.Lines.Enqueue((logLevel, eventId.Id, formatter(state, exception), [.. scopes]));
            }
        }

        private sealed class Pop(Recorder owner, ImmutableStack? before) : IDisposable
        {
            public void Dispose() => owner._open.Value = before;
        }
    }

    private static DeliveryContext NewDelivery(out Guid id)
    {
        id = Guid.CreateVersion7();
        var descriptor = new HandlerDescriptor("welcome", typeof(object), typeof(UserCreated), TopicPattern.Parse("user.created"), new HandlerOptions());
        var envelope = new Envelope("user.created", new UserCreated(1, "a@example.com", DateTimeOffset.UnixEpoch), DateTimeOffset.UnixEpoch, id);
        return new DeliveryContext(envelope, descriptor, services: null, TimeProvider.System, CancellationToken.None);
    }

    private static ValueTask Handled(DeliveryContext context)
    {
        context.Outcome = DeliveryOutcome.Handled;
        return ValueTask.CompletedTask;
    }

    /// <summary>Bytes this thread allocated over <paramref name="times"/> synchronous deliveries, after a warm-up (the JIT's tiers).</summary>
    private static long AllocatedBy(DeliveryDelegate pipeline, DeliveryContext context, int times)
    {
        for (int i = 0; i < 1_000; i++)
        {
            Assert.True(pipeline(context).IsCompletedSuccessfully); // every step here completes synchronously
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < times; i++)
        {
            ValueTask delivered = pipeline(context);
            Assert.True(delivered.IsCompletedSuccessfully);
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void TheLoggingStep_BelowDebug_OpensNoScope_LogsNothing_AndAllocatesNothing()
    {
        var recorder = new Recorder();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(recorder)); // as a default host
        DeliveryDelegate pipeline = PipelineComposer.Compose([new LoggingMiddleware(loggers)], Handled);

        Assert.Equal(0, AllocatedBy(pipeline, NewDelivery(out _), 10_000));
        Assert.Empty(recorder.Scopes);
        Assert.Empty(recorder.Lines);
    }

    [Fact]
    public async Task TheLoggingStep_AtDebug_PutsEachDeliveryInAScope_ThatTheHandlersLinesCarry_AndLogsTheOutcome()
    {
        var recorder = new Recorder();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(recorder));
        ILogger handlerLog = loggers.CreateLogger("Welcome");
        DeliveryDelegate pipeline = PipelineComposer.Compose([new LoggingMiddleware(loggers)], c =>
        {
            handlerLog.LogInformation("sending the welcome mail");
            return Handled(c);
        });

        DeliveryContext context = NewDelivery(out Guid id);
        await pipeline(context);

        var scope = Assert.IsAssignableFrom<IReadOnlyList<KeyValuePair<string, object?>>>(Assert.Single(recorder.Scopes));
        Assert.Contains(new KeyValuePair<string, object?>("EventId", id.ToString()), scope);
        Assert.Contains(new KeyValuePair<string, object?>("Handler", "welcome"), scope);
        (LogLevel _, int _, string _, object[] scopes) = Assert.Single(recorder.Lines, l => l.Message == "sending the welcome mail");
        Assert.Same(scope, Assert.Single(scopes));
        Assert.Contains(recorder.Lines, l => l.Id == 2001 && l.Level == LogLevel.Debug && l.Message.Contains(id.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADuplicate_IsLoggedAtInformation_ByTheStepThatFindsIt()
    {
        var recorder = new Recorder();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(recorder));
        DeliveryDelegate pipeline = PipelineComposer.Compose([new LoggingMiddleware(loggers), new IdempotencyMiddleware(new InMemoryInboxStore(), loggers)], Handled);

        DeliveryContext context = NewDelivery(out Guid id);
        await pipeline(context);
        context.Outcome = default;
        await pipeline(context);

        Assert.Equal(DeliveryOutcome.Duplicate, context.Outcome);
        (LogLevel level, int _, string message, object[] _) = Assert.Single(recorder.Lines);
        Assert.Equal(LogLevel.Information, level);
        Assert.Contains($"skipped user.created {id}", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTracingAndMetricsSteps_WithNobodyListening_AllocateNothing_AndTraceAndCountWhenListenedTo()
    {
        using var telemetry = new BusTelemetry(new EventBusOptions { Name = "cost-" + Guid.NewGuid().ToString("N") });
        DeliveryDelegate pipeline = PipelineComposer.Compose([new TracingMiddleware(telemetry), new MetricsMiddleware(telemetry)], Handled);
        DeliveryContext context = NewDelivery(out Guid id);

        Assert.Equal(0, AllocatedBy(pipeline, context, 10_000));

        var activities = new ConcurrentQueue<Activity>();
        using var tracing = new ActivityListener
        {
            ShouldListenTo = source => source.Name == BusTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(tracing);
        long handled = 0;
        using var metrics = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == BusTelemetry.MeterName && instrument.Name == "herald.events.handled")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        metrics.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "herald.bus" && Equals(tag.Value, telemetry.BusTag.Value))
                {
                    Interlocked.Add(ref handled, value);
                }
            }
        });
        metrics.Start();

        await pipeline(context);

        Activity activity = Assert.Single(activities);
        Assert.Equal("process user.created", activity.DisplayName);
        Assert.Equal(id.ToString(), activity.GetTagItem("messaging.message.id"));
        Assert.Equal(1, Interlocked.Read(ref handled));
    }
}
