using System.Collections.Concurrent;
using Herald.Testing;
using Herald.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Tests.Contracts;

/// <summary>
/// Topic bindings without an attribute (<c>h.Topic&lt;T&gt;(...)</c>, <see cref="Topic.Bind{TEvent}"/>). Bindings are for
/// the whole process, so every test binds types of its own.
/// </summary>
public sealed class TopicBindingTests
{
    // Types "from another library": no [Topic].
    public sealed record PartnerOrderPlaced(string OrderId, decimal Total);

    public sealed record PartnerOrderShipped(string OrderId);

    public sealed record PartnerRefund(string OrderId);

    public sealed record PartnerRefundCopy(string OrderId);

    public sealed record PartnerLate(string OrderId);

    public sealed record PartnerTwice(string OrderId);

    public sealed record PartnerBad(string OrderId);

    [Topic("partner.annotated")]
    public sealed record Annotated(string Id);

    [Topic("partner.shared")]
    public sealed record SharedByAttribute(string Id);

    public sealed record SharedByBinding(string Id);

    public sealed class Placed(ConcurrentQueue<PartnerOrderPlaced> seen) : IEventHandler<PartnerOrderPlaced>
    {
        public Task HandleAsync(EventContext<PartnerOrderPlaced> context, CancellationToken cancellationToken)
        {
            seen.Enqueue(context.Event);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task ATypeWithoutAnAttribute_BoundInAddHerald_IsPublishedAndHandledTyped_WithItsDataSchema()
    {
        var seen = new ConcurrentQueue<PartnerOrderPlaced>();
        await using HeraldTestHarness harness = await HeraldTestHarness.StartAsync(
            h => h.Topic<PartnerOrderPlaced>("partner.order-placed", dataSchema: "urn:partner:order-placed:v1").AddHandler<Placed, PartnerOrderPlaced>(),
            s => s.AddSingleton(seen));

        await harness.Bus.PublishAsync(new PartnerOrderPlaced("o-1", 12.5m));
        ConsumedEvent delivery = (await harness.DeliveriesAsync(d => d.Outcome == DeliveryOutcome.Handled, 1)).Single();

        Assert.Equal("partner.order-placed", delivery.Envelope.Type);
        Assert.Equal("urn:partner:order-placed:v1", delivery.Envelope.DataSchema);
        Assert.Equal([new PartnerOrderPlaced("o-1", 12.5m)], seen);
        Assert.Equal("partner.order-placed", Topic.Of<PartnerOrderPlaced>());
    }

    [Fact]
    public void BindingAgain_ToTheSameTopic_DoesNothing_ToAnotherTopic_IsRefused()
    {
        Topic.Bind<PartnerTwice>("partner.twice");
        Topic.Bind<PartnerTwice>("partner.twice"); // a second host in the same process, say
        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => Topic.Bind<PartnerTwice>("partner.other"));
        Assert.Contains("already bound to 'partner.twice'", ex.Message, StringComparison.Ordinal);
        Assert.Equal("partner.twice", Topic.Of<PartnerTwice>());
    }

    [Fact]
    public void ATopicThatBreaksTheGrammar_IsRefused_NamingTheTypeAndTheProblem()
    {
        InvalidTopicException ex = Assert.Throws<InvalidTopicException>(() => Topic.Bind<PartnerBad>("Partner.Bad"));
        Assert.Contains(nameof(PartnerBad), ex.Message, StringComparison.Ordinal);
        Assert.Contains("uppercase", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidTopicException>(() => Topic.Bind<PartnerBad>("bad"));
        Assert.Throws<InvalidTopicException>(() => Topic.Of<PartnerBad>()); // nothing was bound
    }

    [Fact]
    public void ATypeWithAnAttribute_KeepsIt_AndATopicOfAnotherType_IsNotTaken()
    {
        Topic.Bind<Annotated>("partner.annotated"); // what the attribute says: nothing to do
        InvalidOperationException attribute = Assert.Throws<InvalidOperationException>(() => Topic.Bind<Annotated>("partner.renamed"));
        Assert.Contains("[Topic(\"partner.annotated\")]", attribute.Message, StringComparison.Ordinal);

        Topic.Bind<PartnerRefund>("partner.refund");
        InvalidOperationException taken = Assert.Throws<InvalidOperationException>(() => Topic.Bind<PartnerRefundCopy>("partner.refund"));
        Assert.Contains(nameof(PartnerRefund), taken.Message, StringComparison.Ordinal);
        Assert.Contains("one type per topic", taken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATopicBoundToATypeWithoutAnAttribute_IsRefusedToAnAttributeTypeResolvedAfterwards()
    {
        Topic.Bind<SharedByBinding>("partner.shared"); // SharedByAttribute has not been used yet
        InvalidTopicException ex = Assert.Throws<InvalidTopicException>(() => Topic.Of<SharedByAttribute>());
        Assert.Contains(nameof(SharedByBinding), ex.Message, StringComparison.Ordinal);
        Assert.Equal("partner.shared", Topic.Of<SharedByBinding>());
    }

    [Fact]
    public async Task ATypeUsedBeforeItWasBound_FailsClearly_ThenWorksOnceBound()
    {
        await using var bus = new EventBus();
        InvalidTopicException before = await Assert.ThrowsAsync<InvalidTopicException>(async () => await bus.PublishAsync(new PartnerLate("o-2")));
        Assert.Contains("h.Topic<T>", before.Message, StringComparison.Ordinal);

        Topic.Bind<PartnerLate>("partner.late");
        await using Subscription<PartnerLate> subscription = bus.Subscribe<PartnerLate>();
        await bus.PublishAsync(new PartnerLate("o-3"));
        Assert.True(subscription.TryRead(out EventContext<PartnerLate> received));
        Assert.Equal("o-3", received.Event.OrderId);
    }

    [Fact]
    public async Task AHandlerOfAnUnboundType_IsRefusedAtStart_NamingTheWayToBindIt()
    {
        InvalidOperationException ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using HeraldTestHarness harness = await HeraldTestHarness.StartAsync(h => h.AddHandler<Shipped, PartnerOrderShipped>());
        });
        Assert.Contains("h.Topic<T>", ex.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidTopicException>(ex.InnerException);
    }

    public sealed class Shipped : IEventHandler<PartnerOrderShipped>
    {
        public Task HandleAsync(EventContext<PartnerOrderShipped> context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public sealed record DeclaredByGenerator(string Id);

    public sealed record DeclaredBadly(string Id);

    [Fact]
    public void ADeclaration_FromGeneratedCode_IsTheBinding_WithoutReadingAnAttribute_AndABadOneFailsAtUseNotAtStartup()
    {
        Topic.Declare(typeof(DeclaredByGenerator), "partner.declared", "urn:partner:declared:v3", 0);
        Assert.Equal("partner.declared", Topic.Of<DeclaredByGenerator>()); // no [Topic] on the type: the declaration is the binding
        Assert.Equal(3, Topic.BindingOf(typeof(DeclaredByGenerator)).Version);

        Topic.Declare(typeof(DeclaredBadly), "partner.declared-badly", "urn:partner:x:v2", 5); // never throws in a module initializer
        InvalidTopicException ex = Assert.Throws<InvalidTopicException>(() => Topic.Of<DeclaredBadly>());
        Assert.Contains("its version is 5", ex.Message, StringComparison.Ordinal);
    }
}
