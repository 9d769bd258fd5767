namespace Herald.Analyzers.Tests;

/// <summary>The code fixes: a topic named after the type, and a topic or pattern in lowercase.</summary>
public sealed class CodeFixTests
{
    [Fact]
    public Task HERALD001_AddsATopicNamedAfterTheType_AndTheUsing() => Verify.CodeFixAsync<AddTopicAttributeFix>(
        """
        using System.Threading.Tasks;

        namespace Shop
        {
            public sealed record OrderLineAdded(string Id);

            public static class App
            {
                public static async Task RunAsync(Herald.EventBus bus) => await {|HERALD001:bus.PublishAsync(new OrderLineAdded("1"))|};
            }
        }
        """,
        """
        using System.Threading.Tasks;
        using Herald;

        namespace Shop
        {
            [Topic("order.line-added")]
            public sealed record OrderLineAdded(string Id);

            public static class App
            {
                public static async Task RunAsync(Herald.EventBus bus) => await bus.PublishAsync(new OrderLineAdded("1"));
            }
        }
        """);

    [Fact]
    public Task HERALD002_WritesAnUppercasePatternInLowercase() => Verify.CodeFixAsync<LowercaseTopicFix>(
        """
        using Herald;

        public static class App
        {
            public static void Configure(EventBus bus) => bus.Subscribe({|HERALD002:"Order.*"|});
        }
        """,
        """
        using Herald;

        public static class App
        {
            public static void Configure(EventBus bus) => bus.Subscribe("order.*");
        }
        """);

    [Fact]
    public Task HERALD002_OffersNoFix_WhenLowercaseIsNotEnough() => Verify.CodeFixAsync<LowercaseTopicFix>(
        """
        using Herald;

        [Topic({|HERALD002:"Order Placed"|})]
        public sealed record OrderPlaced(string Id);
        """,
        """
        using Herald;

        [Topic({|HERALD002:"Order Placed"|})]
        public sealed record OrderPlaced(string Id);
        """);

    [Fact]
    public Task HERALD005_AddsTheEventTypeToTheJsonContext() => Verify.CodeFixAsync<AddJsonSerializableFix>(
        """
        using System;
        using System.Text.Json;
        using System.Text.Json.Serialization;
        using System.Text.Json.Serialization.Metadata;
        using System.Threading.Tasks;
        using Herald;

        [Topic("order.placed")]
        public sealed record Listed(string Id);

        [Topic("order.shipped")]
        public sealed record Unlisted(string Id);

        [JsonSerializable(typeof(Listed))]
        internal sealed class AppJson : JsonSerializerContext
        {
            public static AppJson Default { get; } = new();
            public AppJson() : base(null) { }
            protected override JsonSerializerOptions? GeneratedSerializerOptions => null;
            public override JsonTypeInfo? GetTypeInfo(Type type) => null;
        }

        public static class App
        {
            public static readonly SystemTextJsonEventSerializer Json = new(AppJson.Default.Options);

            public static async Task RunAsync(EventBus bus)
            {
                await bus.PublishAsync(new Listed("1"));
                await {|HERALD005:bus.PublishAsync(new Unlisted("2"))|};
            }
        }
        """,
        """
        using System;
        using System.Text.Json;
        using System.Text.Json.Serialization;
        using System.Text.Json.Serialization.Metadata;
        using System.Threading.Tasks;
        using Herald;

        [Topic("order.placed")]
        public sealed record Listed(string Id);

        [Topic("order.shipped")]
        public sealed record Unlisted(string Id);

        [JsonSerializable(typeof(Listed))]
        [JsonSerializable(typeof(Unlisted))]
        internal sealed class AppJson : JsonSerializerContext
        {
            public static AppJson Default { get; } = new();
            public AppJson() : base(null) { }
            protected override JsonSerializerOptions? GeneratedSerializerOptions => null;
            public override JsonTypeInfo? GetTypeInfo(Type type) => null;
        }

        public static class App
        {
            public static readonly SystemTextJsonEventSerializer Json = new(AppJson.Default.Options);

            public static async Task RunAsync(EventBus bus)
            {
                await bus.PublishAsync(new Listed("1"));
                await bus.PublishAsync(new Unlisted("2"));
            }
        }
        """);

    [Fact]
    public Task HERALD001_KeepsTheTypesDocComment_AboveTheNewAttribute() => Verify.CodeFixAsync<AddTopicAttributeFix>(
        """
        using Herald;

        namespace Shop
        {
            /// <summary>An order was placed.</summary>
            public sealed record OrderPlaced(string Id);

            public static class App
            {
                public static System.Threading.Tasks.ValueTask RunAsync(EventBus bus) => {|HERALD001:bus.PublishAsync(new OrderPlaced("1"))|};
            }
        }
        """,
        """
        using Herald;

        namespace Shop
        {
            /// <summary>An order was placed.</summary>
            [Topic("order.placed")]
            public sealed record OrderPlaced(string Id);

            public static class App
            {
                public static System.Threading.Tasks.ValueTask RunAsync(EventBus bus) => bus.PublishAsync(new OrderPlaced("1"));
            }
        }
        """);

    [Fact]
    public Task HERALD002_OffersNoFix_ForAConstantMadeOfSeveralLiterals() => Verify.CodeFixAsync<LowercaseTopicFix>(
        """
        using Herald;

        public static class App
        {
            public static void Configure(EventBus bus) => bus.Subscribe({|HERALD002:"Order." + "*"|});
        }
        """,
        """
        using Herald;

        public static class App
        {
            public static void Configure(EventBus bus) => bus.Subscribe({|HERALD002:"Order." + "*"|});
        }
        """);
}
