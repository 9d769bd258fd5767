namespace Herald.Benchmarks.Fanout;

/// <summary>One system under test: set up three subscribers that record into the probe, publish, tear down.</summary>
public interface IFanoutSystem : IAsyncDisposable
{
    /// <summary>Builds the system with three subscribers (email, points, risk) recording into <paramref name="probe"/>.</summary>
    Task StartAsync(Probe probe);

    /// <summary>Publishes one event.</summary>
    ValueTask PublishAsync(UserCreated e);
}
