using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Benchmarks.Micro;

/// <summary>What a DI scope per delivery costs by itself: create, resolve a transient handler, dispose.</summary>
[Config(typeof(MicroConfig))]
public class ScopeBenchmarks
{
    private ServiceProvider _services = null!;
    private IServiceScopeFactory _scopes = null!;

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddTransient<PipelineBenchmarks.NoopHandler>().BuildServiceProvider();
        _scopes = _services.GetRequiredService<IServiceScopeFactory>();
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark]
    public async ValueTask ScopePerDelivery()
    {
        AsyncServiceScope scope = _scopes.CreateAsyncScope();
        await using (scope)
        {
            _ = scope.ServiceProvider.GetRequiredService<PipelineBenchmarks.NoopHandler>();
        }
    }
}
