using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Herald;

/// <summary>
/// Decides, once per handler at start, whether the handler can be resolved from the root provider with the same
/// result as from a delivery's scope: then a delivery makes no DI scope unless a step asks for one. That holds when
/// the handler is a transient (or singleton) that is not disposable and whose one public constructor takes only
/// singletons, or transients of the same kind, as registered in the final service collection. Anything else (a
/// scoped or keyed dependency, <see cref="IServiceProvider"/>, a factory registration, a collection, several
/// constructors, a disposable the root would keep) gets a scope per delivery, as always.
/// </summary>
internal static class ScopeFreeHandlers
{
    private const int MaxDepth = 8;

    public static bool CanResolveFromRoot(Type handlerType, IServiceCollection services) =>
        IsScopeFree(handlerType, services, 0);

    /// <summary>
    /// How a delivery gets its handler without a scope, or null when it needs the delivery's scope. A transient whose
    /// constructor takes only singletons gets a constructor call made once (with those singletons, resolved here, once:
    /// they are the same instances from the root as from any scope), so a delivery pays an allocation rather than a
    /// container lookup; any other scope-free handler comes from the root provider.
    /// </summary>
    public static Func<object>? ActivatorFor(Type handlerType, IServiceCollection services, IServiceProvider root)
    {
        if (!CanResolveFromRoot(handlerType, services))
        {
            return null;
        }

        ServiceDescriptor descriptor = Find(handlerType, services)!;
        if (descriptor.Lifetime == ServiceLifetime.Transient && descriptor.ImplementationType is { } implementation)
        {
            ParameterInfo[] parameters = implementation.GetConstructors(BindingFlags.Public | BindingFlags.Instance)[0].GetParameters();
            if (Array.TrueForAll(parameters, p => Find(p.ParameterType, services)?.Lifetime == ServiceLifetime.Singleton))
            {
                Type[] types = Array.ConvertAll(parameters, p => p.ParameterType);
                object[] singletons = Array.ConvertAll(types, root.GetRequiredService);
                ObjectFactory create = ActivatorUtilities.CreateFactory(implementation, types);
                return () => create(root, singletons);
            }
        }

        return () => root.GetRequiredService(handlerType);
    }

    private static bool IsScopeFree(Type serviceType, IServiceCollection services, int depth)
    {
        if (depth > MaxDepth)
        {
            return false;
        }

        ServiceDescriptor? descriptor = Find(serviceType, services);
        if (descriptor is null)
        {
            return false;
        }

        switch (descriptor.Lifetime)
        {
            case ServiceLifetime.Singleton:
                return true; // the same instance from the root as from any scope
            case ServiceLifetime.Scoped:
                return false;
        }

        // Transient: only a plain type the container constructs, whose own dependencies are scope-free; a disposable
        // one resolved from the root would be kept by the root until the application ends.
        Type? implementation = descriptor.ImplementationType;
        if (implementation is null || implementation.IsGenericTypeDefinition
            || typeof(IDisposable).IsAssignableFrom(implementation) || typeof(IAsyncDisposable).IsAssignableFrom(implementation))
        {
            return false;
        }

        ConstructorInfo[] constructors = implementation.GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        if (constructors.Length != 1)
        {
            return false;
        }

        foreach (ParameterInfo parameter in constructors[0].GetParameters())
        {
            Type type = parameter.ParameterType;
            if (type == typeof(IServiceProvider) || parameter.GetCustomAttributes(inherit: true).Any(a => a is FromKeyedServicesAttribute)
                || !IsScopeFree(type, services, depth + 1))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The registration the container would use for <paramref name="serviceType"/>: the last one, exact or open generic.</summary>
    private static ServiceDescriptor? Find(Type serviceType, IServiceCollection services)
    {
        ServiceDescriptor? found = null;
        Type? open = serviceType.IsConstructedGenericType ? serviceType.GetGenericTypeDefinition() : null;
        foreach (ServiceDescriptor descriptor in services)
        {
            if (!descriptor.IsKeyedService && descriptor.ServiceType == serviceType)
            {
                found = descriptor;
            }
        }

        if (found is null && open is not null && open != typeof(IEnumerable<>))
        {
            foreach (ServiceDescriptor descriptor in services)
            {
                if (!descriptor.IsKeyedService && descriptor.ServiceType == open)
                {
                    found = descriptor; // e.g. ILogger<T> -> Logger<T>, a singleton
                }
            }
        }

        return found;
    }
}
