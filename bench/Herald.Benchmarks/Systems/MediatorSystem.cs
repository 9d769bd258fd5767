using Herald.Benchmarks.Fanout;
using Mediator;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Benchmarks.Systems;

/// <summary>Mediator (source-generated): an in-process notification to three handlers, awaited in turn, inline.</summary>
public sealed class MediatorSystem : IFanoutSystem
{
    private ServiceProvider? _services;
    private IMediator? _mediator;

    public Task StartAsync(Probe probe)
    {
        var services = new ServiceCollection();
        services.AddSingleton(probe);
        services.AddMediator(o => o.ServiceLifetime = ServiceLifetime.Singleton);
        _services = services.BuildServiceProvider();
        _mediator = _services.GetRequiredService<IMediator>();
        return Task.CompletedTask;
    }

    public ValueTask PublishAsync(UserCreated e) => _mediator!.Publish(e);

    public ValueTask DisposeAsync() => _services!.DisposeAsync();

    public sealed class EmailNotification(Probe probe) : INotificationHandler<UserCreated>
    {
        public ValueTask Handle(UserCreated notification, CancellationToken cancellationToken)
        {
            probe.Record(0, notification);
            return ValueTask.CompletedTask;
        }
    }

    public sealed class PointsNotification(Probe probe) : INotificationHandler<UserCreated>
    {
        public ValueTask Handle(UserCreated notification, CancellationToken cancellationToken)
        {
            probe.Record(1, notification);
            return ValueTask.CompletedTask;
        }
    }

    public sealed class RiskNotification(Probe probe) : INotificationHandler<UserCreated>
    {
        public ValueTask Handle(UserCreated notification, CancellationToken cancellationToken)
        {
            probe.Record(2, notification);
            return ValueTask.CompletedTask;
        }
    }
}
