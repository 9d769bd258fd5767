using Herald;

namespace Registration;

/// <summary>Sends the welcome mail: the slow one (about 20 µs of work per user).</summary>
public sealed class SendWelcomeEmail(Latencies latencies) : IEventHandler<UserCreated>
{
    public async Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
    {
        await Task.Yield();
        Work.Spin(TimeSpan.FromMicroseconds(20));
        latencies.Handled(nameof(SendWelcomeEmail), context.Event.Id);
    }
}

/// <summary>Awards sign-up points, in order per user (the key).</summary>
public sealed class AwardPoints(Latencies latencies, PointsLedger ledger) : IEventHandler<UserCreated>
{
    public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
    {
        ledger.Award(context.Key!, 10);
        latencies.Handled(nameof(AwardPoints), context.Event.Id);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Runs a risk check that fails: once, transiently, for users whose id ends in 3 (the retry succeeds), and always for
/// users whose id ends in 007 (they end in the dead letters after three attempts).
/// </summary>
public sealed class RiskCheck(Latencies latencies) : IEventHandler<UserCreated>
{
    public Task HandleAsync(EventContext<UserCreated> context, CancellationToken cancellationToken)
    {
        long id = context.Event.Id;
        if (id % 1000 == 7)
        {
            throw new InvalidOperationException($"risk service refuses {context.Event.Email}: blocked domain");
        }

        if (id % 10 == 3 && context.Attempt == 1)
        {
            throw new TimeoutException("risk service timed out");
        }

        latencies.Handled(nameof(RiskCheck), id);
        return Task.CompletedTask;
    }
}

/// <summary>Audits every user.* event, untyped (a pattern handler).</summary>
public sealed class AuditTrail(Latencies latencies) : IEventHandler<object>
{
    public Task HandleAsync(EventContext<object> context, CancellationToken cancellationToken)
    {
        if (context.Event is UserCreated user)
        {
            latencies.Handled(nameof(AuditTrail), user.Id);
        }

        return Task.CompletedTask;
    }
}

/// <summary>The sample's four handlers with their options, registered the same way by the Registration samples.</summary>
public static class RegistrationHandlers
{
    public static HeraldBuilder AddRegistrationHandlers(this HeraldBuilder h) => h
        .AddHandler<SendWelcomeEmail, UserCreated>(o => { o.Concurrency = 8; o.Timeout = TimeSpan.FromSeconds(5); })
        .AddHandler<AwardPoints, UserCreated>(o => { o.Concurrency = 4; o.OrderedByKey = true; })
        .AddHandler<RiskCheck, UserCreated>(o => { o.Concurrency = 16; o.Retry = Retry.Exponential(maxAttempts: 3, initial: TimeSpan.FromMilliseconds(1)); })
        .AddHandler<AuditTrail>("user.*");
}
