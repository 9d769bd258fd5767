using Microsoft.Extensions.Hosting;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Herald.Handling;
using Herald.Handling.Middleware;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Herald;

/// <summary>Configures Herald in <c>services.AddHerald(h => ...)</c>: the bus, the handlers, the pipeline and schedules.</summary>
public sealed class HeraldBuilder
{
    private readonly List<Func<HandlerRegistration[]>> _handlers = [];
    private readonly List<RecurringPublish> _recurring = [];
    private HeraldSettings? _settings;

    internal HeraldBuilder(IServiceCollection services)
    {
        Services = services;
        Pipeline =
        [
            new PipelineStep("tracing", sp => new TracingMiddleware(sp.GetRequiredService<EventBus>().Telemetry)),
            new PipelineStep("metrics", sp => new MetricsMiddleware(sp.GetRequiredService<EventBus>().Telemetry)),
            new PipelineStep("logging", sp => ActivatorUtilities.CreateInstance<LoggingMiddleware>(sp)),
            new PipelineStep("isolation", sp => ActivatorUtilities.CreateInstance<IsolationMiddleware>(sp)),
            new PipelineStep("dead-letter", sp => ActivatorUtilities.CreateInstance<DeadLetterMiddleware>(sp)),
            new PipelineStep("idempotency", sp => ActivatorUtilities.CreateInstance<IdempotencyMiddleware>(sp)),
            new PipelineStep("retry", sp => ActivatorUtilities.CreateInstance<RetryMiddleware>(sp)),
            new PipelineStep("timeout", _ => new TimeoutMiddleware()),
        ];
    }

    /// <summary>The service collection, for registering what handlers depend on.</summary>
    public IServiceCollection Services { get; }

    /// <summary>The bus's options (name, publish timeout, gate capacity, clock). Logging and metrics come from DI when not set.</summary>
    public EventBusOptions Bus { get; } = new();

    /// <summary>The host's options: shutdown timeout and health thresholds.</summary>
    public HeraldHostOptions Host { get; } = new();

    /// <summary>
    /// The pipeline, outermost step first. By default: tracing, metrics, logging, isolation, dead-letter,
    /// idempotency, retry, timeout; <see cref="Use{TMiddleware}"/> appends. Remove or reorder steps here.
    /// </summary>
    public IList<PipelineStep> Pipeline { get; }

    /// <summary>
    /// Registers <typeparamref name="THandler"/> for every <see cref="IEventHandler{TEvent}"/> it implements (one consumer per
    /// event type; named <c>{Handler}</c>, or <c>{Handler}/{topic}</c> when it handles several). Uses reflection;
    /// <see cref="AddHandler{THandler, TEvent}"/> does not.
    /// </summary>
    /// <param name="configure">Sets concurrency, timeout, retry, ordering, group, capacity.</param>
    [RequiresDynamicCode("Finds the handled event types by reflection and closes generic invokers over them; use AddHandler<THandler, TEvent> for native AOT.")]
    public HeraldBuilder AddHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces | DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(Action<HandlerOptions>? configure = null)
        where THandler : class
    {
        Type[] events = [.. typeof(THandler).GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEventHandler<>))
            .Select(i => i.GetGenericArguments()[0])
            .Where(t => t != typeof(object))];
        if (events.Length == 0)
        {
            throw new InvalidOperationException(
                $"Handler '{typeof(THandler).Name}' implements no IEventHandler<TEvent> for an event type; a pattern handler (IEventHandler<object>) is registered with AddHandler<THandler>(pattern).");
        }

        Services.TryAddTransient<THandler>();
        _handlers.Add(() => [.. events.Select(e => Describe(typeof(THandler), e, pattern: null, events.Length > 1, configure, Invoker(typeof(THandler), e)))]);
        return this;
    }

    /// <summary>Registers <typeparamref name="THandler"/> for <typeparamref name="TEvent"/> (no reflection).</summary>
    /// <param name="configure">Sets concurrency, timeout, retry, ordering, group, capacity.</param>
    public HeraldBuilder AddHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler, TEvent>(Action<HandlerOptions>? configure = null)
        where THandler : class, IEventHandler<TEvent>
    {
        Services.TryAddTransient<THandler>();
        _handlers.Add(() => [Describe(typeof(THandler), typeof(TEvent), pattern: null, qualify: false, configure, HandlerInvoker<THandler, TEvent>.InvokeAsync)]);
        return this;
    }

    /// <summary>Registers a pattern handler: <typeparamref name="THandler"/> receives every event whose topic matches <paramref name="pattern"/>, untyped.</summary>
    /// <param name="pattern">A topic pattern, e.g. <c>user.*</c>.</param>
    /// <param name="configure">Sets concurrency, timeout, retry, ordering, group, capacity.</param>
    public HeraldBuilder AddHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(string pattern, Action<HandlerOptions>? configure = null)
        where THandler : class, IEventHandler<object>
    {
        TopicPattern parsed = TopicPattern.Parse(pattern);
        Services.TryAddTransient<THandler>();
        _handlers.Add(() => [Describe(typeof(THandler), eventType: null, parsed, qualify: false, configure, HandlerInvoker<THandler, object>.InvokeAsync)]);
        return this;
    }

    /// <summary>
    /// Registers a projection (a singleton) that the host runs over the registered <see cref="IEventStore"/> from its
    /// stored checkpoint, through the history, then live, until the host stops.
    /// </summary>
    public HeraldBuilder AddProjection<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TProjection>()
        where TProjection : class, IProjection
    {
        Services.TryAddSingleton<TProjection>();
        Services.AddSingleton<IProjection>(sp => sp.GetRequiredService<TProjection>());
        Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ProjectionHost>());
        return this;
    }

    /// <summary>Appends a middleware to the pipeline (innermost, next to the handler). It is resolved from DI as a singleton.</summary>
    public HeraldBuilder Use<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TMiddleware>()
        where TMiddleware : class, IDeliveryMiddleware
    {
        Services.TryAddSingleton<TMiddleware>();
        Pipeline.Add(new PipelineStep(typeof(TMiddleware).Name, sp => sp.GetRequiredService<TMiddleware>()));
        return this;
    }

    /// <summary>
    /// Binds <typeparamref name="TEvent"/> to <paramref name="topic"/> without a <see cref="TopicAttribute"/>: for event
    /// types you do not own. Checked here, as the attribute is checked: a topic that breaks the grammar, a type with
    /// another topic already, or a topic already bound to another type is an exception naming the problem. The binding
    /// is for the whole process (see <see cref="Herald.Topic.Bind{TEvent}"/>); call it before <c>Every</c> or <c>Cron</c>
    /// of the type, which resolve its topic at once (handlers resolve it when the host is built).
    /// </summary>
    /// <param name="topic">The topic, e.g. <c>user.created</c>.</param>
    /// <param name="dataSchema">Optional schema identifier written to the envelope's CloudEvents <c>dataschema</c> attribute.</param>
    /// <param name="version">The payload's version on the topic (see <see cref="TopicAttribute.Version"/>); 0 takes it from <paramref name="dataSchema"/> or means 1.</param>
    /// <exception cref="InvalidTopicException"><paramref name="topic"/> breaks the grammar, or the version and the data schema disagree.</exception>
    /// <exception cref="InvalidOperationException">The type already has another topic, or another type has this one at this version.</exception>
    public HeraldBuilder Topic<TEvent>(string topic, string? dataSchema = null, int version = 0)
    {
        Herald.Topic.Bind<TEvent>(topic, dataSchema, version);
        return this;
    }

    /// <summary>
    /// Registers an upcaster from <typeparamref name="TOld"/>, an older version of a topic's event, to
    /// <typeparamref name="TNew"/>, a newer one: every reader of <typeparamref name="TNew"/> (handlers on any transport,
    /// the event store and its projections) then reads older events through it. Chain them a version at a time
    /// (1 → 2, 2 → 3). For the whole process, as topic bindings are (see <see cref="EventUpcasters"/>).
    /// </summary>
    /// <param name="upcast">Makes the new event from the old.</param>
    /// <example><code>h.Upcast&lt;UserCreatedV1, UserCreated&gt;(v1 => new UserCreated(v1.UserId, v1.Email, DisplayName: v1.Email));</code></example>
    /// <exception cref="InvalidTopicException">A type has no valid topic.</exception>
    /// <exception cref="InvalidOperationException">The types are on different topics, the versions do not go up, or the old version has another upcaster.</exception>
    public HeraldBuilder Upcast<TOld, TNew>(Func<TOld, TNew> upcast)
        where TOld : notnull
        where TNew : notnull
    {
        EventUpcasters.Register(upcast);
        return this;
    }

    /// <summary>
    /// Registers an upcaster for snapshots: a stored snapshot of <typeparamref name="TOld"/> state is read as
    /// <typeparamref name="TNew"/>. See <see cref="EventUpcasters.RegisterSnapshot{TOld, TNew}"/>.
    /// </summary>
    /// <param name="upcast">Makes the new state from the old.</param>
    /// <exception cref="InvalidOperationException">The step conflicts with one registered before.</exception>
    public HeraldBuilder UpcastSnapshot<TOld, TNew>(Func<TOld, TNew> upcast)
        where TOld : notnull
        where TNew : notnull
    {
        EventUpcasters.RegisterSnapshot(upcast);
        return this;
    }

    /// <summary>
    /// Writes events of <typeparamref name="TEvent"/> with <paramref name="serializer"/> (MessagePack, Protobuf...) on
    /// every transport, whatever the transport's own serializer; its content type goes to <c>datacontenttype</c>, and
    /// readers pick their decoder by it. For the whole process (see <see cref="EventSerializers"/>).
    /// </summary>
    /// <param name="serializer">The event type's serializer.</param>
    /// <exception cref="InvalidOperationException">The type already has a serializer of another kind.</exception>
    public HeraldBuilder UseSerializer<TEvent>(IEventSerializer serializer)
    {
        EventSerializers.Use<TEvent>(serializer);
        return this;
    }

    /// <summary>
    /// Reads payloads of <paramref name="serializer"/>'s content type with it, on transports that write another: the old
    /// format while a topic migrates to a new one, or what other services write. See <see cref="EventSerializers.AddDeserializer"/>.
    /// </summary>
    /// <param name="serializer">The serializer to read with.</param>
    public HeraldBuilder AddDeserializer(IEventSerializer serializer)
    {
        EventSerializers.AddDeserializer(serializer);
        return this;
    }

    /// <summary>Publishes <paramref name="create"/>'s event every <paramref name="period"/> while the host runs (first after one period).</summary>
    /// <param name="period">The period, on the bus's clock.</param>
    /// <param name="create">Makes the event to publish.</param>
    public HeraldBuilder Every<TEvent>(TimeSpan period, Func<TEvent> create)
        where TEvent : notnull
    {
        ArgumentNullException.ThrowIfNull(create);
        if (period <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, $"The period of the recurring '{typeof(TEvent).Name}' must be positive.");
        }

        string topic = Herald.Topic.Of<TEvent>();
        _recurring.Add(new RecurringPublish(topic, period, (bus, ct) => bus.PublishAsync(create(), ct)));
        return this;
    }

    /// <summary>
    /// Reads settings from <paramref name="section"/> (for example <c>builder.Configuration.GetSection("Herald")</c>)
    /// over what code sets, so a deployment can tune Herald without a rebuild: <c>Bus</c> (<c>Name</c>, <c>Source</c>,
    /// <c>PublishTimeout</c>, <c>PausedGateCapacity</c>), <c>Host</c> (<c>ShutdownTimeout</c>,
    /// <c>CancellationGrace</c>, <c>QueueHighWaterMark</c>, <c>MaxOldestEventAge</c>), and <c>Handlers:{name}</c>
    /// (<c>Group</c>, <c>Concurrency</c>, <c>OrderedByKey</c>, <c>Timeout</c>, <c>Capacity</c>, <c>Overflow</c>,
    /// <c>Idempotent</c>, <c>Retry</c> with <c>MaxAttempts</c>, <c>InitialDelay</c>, <c>MaxDelay</c>, <c>Factor</c>,
    /// <c>Jitter</c>). Times are time spans (<c>00:00:30</c>), numbers use a dot. Read once, when <c>AddHerald</c>
    /// runs. An unknown key, a value that does not parse, or a handler name no registration has throws there, naming
    /// the key's full path.
    /// </summary>
    /// <param name="section">The configuration section holding Herald's settings.</param>
    public HeraldBuilder BindConfiguration(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        _settings = new HeraldSettings(section);
        return this;
    }

    /// <summary>
    /// Publishes <paramref name="create"/>'s event at every time the cron expression <paramref name="expression"/>
    /// names, while the host runs: five fields (minute hour day-of-month month day-of-week) with <c>*</c>, numbers,
    /// ranges <c>a-b</c>, steps <c>*/n</c>, lists <c>a,b</c> and names (<c>JAN</c>, <c>MON-FRI</c>), or
    /// <c>@hourly</c>, <c>@daily</c>, <c>@weekly</c>, <c>@monthly</c>, <c>@yearly</c>. Times missed while the process
    /// was not running or was suspended are skipped, not made up.
    /// </summary>
    /// <param name="expression">For example <c>0 3 * * *</c> (03:00 every day) or <c>*/15 9-17 * * MON-FRI</c>.</param>
    /// <param name="create">Makes the event to publish.</param>
    /// <param name="timeZone">The zone the expression's times are in; UTC when null. Across daylight saving changes a
    /// time the clock skips fires an hour later by the clock, and a time it repeats fires once (in both passes when the
    /// hour field is written from <c>*</c>: the schedule then runs by real time).</param>
    /// <exception cref="ArgumentException">The expression is not valid (the message names the field and the problem) or never fires.</exception>
    public HeraldBuilder Cron<TEvent>(string expression, Func<TEvent> create, TimeZoneInfo? timeZone = null)
        where TEvent : notnull
    {
        ArgumentNullException.ThrowIfNull(create);
        CronSchedule schedule = CronSchedule.Parse(expression);
        string topic = Herald.Topic.Of<TEvent>();
        _recurring.Add(new RecurringPublish(topic, schedule, timeZone ?? TimeZoneInfo.Utc, (bus, ct) => bus.PublishAsync(create(), ct)));
        return this;
    }

    /// <summary>Checks every registration and returns the catalog; throws naming the handler and the problem.</summary>
    internal HandlerCatalog Build()
    {
        _settings?.Apply(Bus, Host);
        Host.Validate();
        HandlerRegistration[] handlers = [.. _handlers.SelectMany(h => h())];
        _settings?.CheckHandlers(handlers.Select(h => h.Descriptor.Name));
        IGrouping<string, HandlerRegistration>? clash = handlers.GroupBy(h => h.Descriptor.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            throw new InvalidOperationException(
                $"Two handlers are named '{clash.Key}' ({string.Join(", ", clash.Select(h => h.Descriptor.HandlerType.Name))}); give one a different HandlerOptions.Name.");
        }

        foreach (IGrouping<string, HandlerRegistration> group in handlers.GroupBy(h => h.Descriptor.Group, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            HandlerRegistration first = group.First();
            HandlerRegistration? other = group.FirstOrDefault(h => h.Descriptor.Options.OrderedByKey != first.Descriptor.Options.OrderedByKey);
            if (other is not null)
            {
                throw new InvalidOperationException(
                    $"Handlers '{first.Descriptor.Name}' and '{other.Descriptor.Name}' share group '{group.Key}' but only one of them is OrderedByKey; members of a group compete for events, so they must agree on ordering.");
            }
        }

        string[] names = [.. Pipeline.Select(p => p.Name)];
        string? twice = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (twice is not null)
        {
            throw new InvalidOperationException($"The pipeline has the step '{twice}' twice.");
        }

        return new HandlerCatalog(handlers, [.. Pipeline], [.. _recurring]);
    }

    private HandlerRegistration Describe(Type handler, Type? eventType, TopicPattern? pattern, bool qualify, Action<HandlerOptions>? configure, DeliveryDelegate invoke)
    {
        var options = new HandlerOptions();
        configure?.Invoke(options);
        if (pattern is null)
        {
            try
            {
                pattern = TopicPattern.Parse(Herald.Topic.Of(eventType!));
            }
            catch (InvalidTopicException ex)
            {
                throw new InvalidOperationException($"Handler '{handler.Name}' handles '{eventType!.Name}', which cannot be consumed: {ex.Message}", ex);
            }
        }

        string name = options.Name ?? (qualify ? $"{handler.Name}/{pattern.Value}" : handler.Name);
        _settings?.Apply(name, options);
        options.Validate(name);
        return new HandlerRegistration(new HandlerDescriptor(name, handler, eventType, pattern, options), invoke);
    }

    [RequiresDynamicCode("Closes the generic invoker over a handler and event type found at run time.")]
    private static DeliveryDelegate Invoker(Type handler, Type eventType)
    {
        Type closed = typeof(HandlerInvoker<,>).MakeGenericType(handler, eventType);
        return closed.GetMethod(nameof(HandlerInvoker<NoHandler, object>.InvokeAsync))!.CreateDelegate<DeliveryDelegate>();
    }

    /// <summary>Only names the open invoker's method.</summary>
    private sealed class NoHandler : IEventHandler<object>
    {
        public Task HandleAsync(EventContext<object> context, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
