using Herald.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Herald.Tests.Handling;

public sealed class HealthCheckTests
{
    private static readonly HandlerDescriptor Email = new("email", typeof(object), typeof(UserCreated), TopicPattern.Parse("user.created"), new HandlerOptions());

    private static ConsumerInfo Info(int queued = 0, long dropped = 0, TimeSpan? oldest = null, Exception? fault = null) =>
        new(Email, new SubscriptionStats(0, queued, dropped, 0, 0, 0, 0, 0), default, oldest, Capacity: 1000, fault);

    private static Task<HealthCheckResult> Check(HeraldHealthCheck check) => check.CheckHealthAsync(new HealthCheckContext());

    [Fact]
    public async Task Healthy_WhenQueuesAreShortAndNothingDropped()
    {
        var check = new HeraldHealthCheck(() => [Info(queued: 10, oldest: TimeSpan.FromSeconds(1))], new InMemoryDeadLetterStore(), new HeraldHostOptions());
        HealthCheckResult result = await Check(check);
        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal(10, result.Data["email.queued"]);
    }

    [Fact]
    public async Task Degraded_AboveHighWaterMark()
    {
        var check = new HeraldHealthCheck(() => [Info(queued: 801)], new InMemoryDeadLetterStore(), new HeraldHostOptions { QueueHighWaterMark = 0.8 });
        HealthCheckResult result = await Check(check);
        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("'email' queue holds 801 of 1000", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Degraded_WhenOldestEventIsTooOld()
    {
        var check = new HeraldHealthCheck(() => [Info(queued: 1, oldest: TimeSpan.FromSeconds(45))], new InMemoryDeadLetterStore(), new HeraldHostOptions { MaxOldestEventAge = TimeSpan.FromSeconds(30) });
        HealthCheckResult result = await Check(check);
        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("oldest event waited 45 s", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Degraded_OnlyWhileDropsGrow()
    {
        long dropped = 5;
        var check = new HeraldHealthCheck(() => [Info(dropped: dropped)], new InMemoryDeadLetterStore(), new HeraldHostOptions());
        Assert.Equal(HealthStatus.Degraded, (await Check(check)).Status);
        Assert.Equal(HealthStatus.Healthy, (await Check(check)).Status); // no new drops since the last check
        dropped = 6;
        Assert.Contains("dropped 1 event(s)", (await Check(check)).Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unhealthy_WhenAConsumerLoopDied()
    {
        var check = new HeraldHealthCheck(() => [Info(fault: new InvalidOperationException("transport gone"))], new InMemoryDeadLetterStore(), new HeraldHostOptions());
        HealthCheckResult result = await Check(check);
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("'email' consumer loop died: transport gone", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_OutOfRange_AreRefused()
    {
        Assert.Throws<InvalidOperationException>(() => new HeraldHostOptions { QueueHighWaterMark = 1.5 }.Validate());
        Assert.Throws<InvalidOperationException>(() => new HeraldHostOptions { MaxOldestEventAge = TimeSpan.Zero }.Validate());
    }
}
