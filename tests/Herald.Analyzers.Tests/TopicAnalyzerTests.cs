namespace Herald.Analyzers.Tests;

/// <summary>Each of Herald's diagnostics, firing where it should and not where it should not.</summary>
public sealed class TopicAnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Herald;

        """;

    [Fact]
    public Task HERALD001_APublishedOrSubscribedOrHandledTypeWithoutATopic_IsReported() => Verify.AnalyzerAsync(Usings + """
        public sealed record Untopiced(string Id);
        public sealed record AlsoUntopiced(string Id);

        public sealed class {|HERALD001:Handles|} : IEventHandler<AlsoUntopiced>
        {
            public Task HandleAsync(EventContext<AlsoUntopiced> context, CancellationToken cancellationToken) => Task.CompletedTask;
        }

        public static class App
        {
            public static async Task RunAsync(EventBus bus)
            {
                await {|HERALD001:bus.PublishAsync(new Untopiced("1"))|};
                await using Subscription<Untopiced> s = {|HERALD001:bus.Subscribe<Untopiced>()|};
            }
        }
        """);

    [Fact]
    public Task HERALD001_IsSilent_ForTypesWithAttributesOrBindings_AndForTypesKnownOnlyAtRunTime() => Verify.AnalyzerAsync(Usings + """
        [Topic("user.created")]
        public sealed record UserCreated(string Id);
        public sealed record PartnerOrder(string Id);
        public interface IMarker { }
        public abstract record Base(string Id);

        public static class App
        {
            public static void Configure(HeraldBuilder h) => h.Topic<PartnerOrder>("partner.order-placed");

            public static async Task RunAsync(EventBus bus, object unknown, IMarker marker, Base @base)
            {
                await bus.PublishAsync(new UserCreated("1"));
                await bus.PublishAsync(new PartnerOrder("2"));
                await bus.PublishAsync(unknown);
                await bus.PublishAsync(marker);
                await bus.PublishAsync(@base);
            }
        }
        """);

    [Fact]
    public Task HERALD002_TopicsAndPatternsThatBreakTheGrammar_AreErrors() => Verify.AnalyzerAsync(Usings + """
        [Topic({|HERALD002:"created"|})]
        public sealed record Created(string Id);

        [Topic({|HERALD002:"Order.Placed"|})]
        public sealed record Placed(string Id);

        public sealed record Partner(string Id);

        public static class App
        {
            public static void Configure(HeraldBuilder h, EventBus bus)
            {
                h.Topic<Partner>({|HERALD002:"partner..order"|});
                bus.Subscribe({|HERALD002:"Order.*"|});
                bus.Subscribe({|HERALD002:"order.pa*"|});
                bus.Gates.Pause({|HERALD002:"orders"|});
                bus.Subscribe("order.*");
                bus.Subscribe("#.created");
                bus.Gates.Pause("order.#");
            }
        }
        """);

    [Fact]
    public Task HERALD003_TwoTypesOnOneTopicAndVersion_AreReported_OtherVersionsAreNot() => Verify.AnalyzerAsync(Usings + """
        [Topic("member.joined")]
        public sealed record MemberJoinedV1(string Id);

        [Topic("member.joined", Version = 2)]
        public sealed record MemberJoined(string Id, string Name);

        [Topic({|HERALD003:"member.joined"|}, DataSchema = "urn:shop:member.joined:v2")]
        public sealed record MemberJoinedCopy(string Id, string Name);

        public sealed record PartnerJoined(string Id);

        public static class App
        {
            public static void Configure(HeraldBuilder h) => h.Topic<PartnerJoined>({|HERALD003:"member.joined"|});
        }
        """);

    [Fact]
    public Task HERALD004_AHandlerOfAnEventNothingPublishes_IsInformation_APublishedOneIsNot() => Verify.AnalyzerAsync(Usings + """
        [Topic("order.placed")]
        public sealed record OrderPlaced(string Id);

        [Topic("order.shipped")]
        public sealed record OrderShipped(string Id);

        public sealed class Handler : IEventHandler<OrderPlaced>, IEventHandler<OrderShipped>
        {
            public Task HandleAsync(EventContext<OrderPlaced> context, CancellationToken cancellationToken) => Task.CompletedTask;

            public Task HandleAsync(EventContext<OrderShipped> context, CancellationToken cancellationToken) => Task.CompletedTask;
        }

        public static class App
        {
            public static void Configure(HeraldBuilder h)
            {
                h.AddHandler<Handler, OrderPlaced>();
                {|HERALD004:h.AddHandler<Handler, OrderShipped>()|};
                h.Every(TimeSpan.FromMinutes(1), () => new OrderPlaced("tick"));
            }
        }
        """);

    [Fact]
    public Task HERALD005_AnEventTypeMissingFromTheProjectsJsonContext_IsReported() => Verify.AnalyzerAsync(Usings + """
        using System.Text.Json;
        using System.Text.Json.Serialization;
        using System.Text.Json.Serialization.Metadata;

        [Topic("order.placed")]
        public sealed record Listed(string Id);

        [Topic("order.shipped")]
        public sealed record Unlisted(string Id);

        public sealed record Line(string Sku);

        [Topic("order.line-added")]
        public sealed record LineAdded(string OrderId, Line Line);

        [Topic("order.packed")]
        public sealed record Packed(string Id);

        [Topic("order.placed-old")]
        public sealed record OldListed(string Id);

        [JsonSerializable(typeof(Listed))]
        [JsonSerializable(typeof(Wrapper))]
        internal sealed class AppJson : JsonSerializerContext
        {
            public static AppJson Default { get; } = new();
            public AppJson() : base(null) { }
            protected override JsonSerializerOptions? GeneratedSerializerOptions => null;
            public override JsonTypeInfo? GetTypeInfo(Type type) => null;
        }

        public sealed record Wrapper(LineAdded[] Lines); // LineAdded is reached through it

        [JsonSerializable(typeof(string))]
        internal sealed class WebJson : JsonSerializerContext // an ASP.NET context, not Herald's: not checked
        {
            public WebJson() : base(null) { }
            protected override JsonSerializerOptions? GeneratedSerializerOptions => null;
            public override JsonTypeInfo? GetTypeInfo(Type type) => null;
        }

        public static class App
        {
            public static void Configure(HeraldBuilder h)
            {
                var json = new SystemTextJsonEventSerializer(AppJson.Default.Options);
                h.UseSerializer<Packed>(json);
            }

            public static async Task RunAsync(EventBus bus)
            {
                await bus.PublishAsync(new Listed("1"));
                await {|HERALD005:bus.PublishAsync(new Unlisted("2"))|};
                await bus.PublishAsync(new Unlisted("3")); // one report per type
                await bus.PublishAsync(new LineAdded("o", new Line("s")));
                await bus.PublishAsync(new Packed("4")); // has a serializer of its own
            }
        }
        """);

    [Fact]
    public Task HERALD001AndHERALD004_FollowNonGenericBindings_AndOpaquePublishes() => Verify.AnalyzerAsync(Usings + """
        [Topic("order.placed")]
        public sealed record Placed(string Id);

        public sealed record Partner(string Id);

        public sealed class Handler : IEventHandler<Placed>
        {
            public Task HandleAsync(EventContext<Placed> context, CancellationToken cancellationToken) => Task.CompletedTask;
        }

        public static class App
        {
            public static void Configure(HeraldBuilder h)
            {
                Topic.Bind(typeof(Partner), "partner.thing");
                h.AddHandler<Handler, Placed>(); // no HERALD004: something below publishes objects
            }

            public static async Task RunAsync(EventBus bus, object[] events)
            {
                await bus.PublishAsync(new Partner("1"));
                foreach (object e in events)
                {
                    await bus.PublishAsync(e);
                }
            }
        }
        """);

    [Fact]
    public Task HERALD005_IsSilent_InAProjectWithoutAJsonContext() => Verify.AnalyzerAsync(Usings + """
        [Topic("order.placed")]
        public sealed record Placed(string Id);

        public static class App
        {
            public static ValueTask RunAsync(EventBus bus) => bus.PublishAsync(new Placed("1"));
        }
        """);

    [Fact]
    public Task WithoutHerald_NothingIsReported() => new Microsoft.CodeAnalysis.CSharp.Testing.CSharpAnalyzerTest<TopicAnalyzer, Microsoft.CodeAnalysis.Testing.DefaultVerifier>
    {
        TestCode = "public sealed class Topic { public string Name = \"NOT A TOPIC\"; }",
        ReferenceAssemblies = Microsoft.CodeAnalysis.Testing.ReferenceAssemblies.Default.WithPackages([]),
    }.RunAsync();
}
