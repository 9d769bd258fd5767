namespace Herald.Testing.Transports;

/// <summary>Handles <see cref="Placed"/> as the <see cref="Script"/> says; <c>Role</c> tells registrations apart.</summary>
/// <param name="script">The test's script.</param>
public abstract class ScriptedPlaced(Script script) : IEventHandler<Placed>
{
    /// <summary>The role recorded for this handler's attempts.</summary>
    protected abstract string Role { get; }

    /// <inheritdoc />
    public Task HandleAsync(EventContext<Placed> context, CancellationToken cancellationToken) =>
        script.RunAsync(Role, context.Event.Id, context.Attempt, cancellationToken);
}

/// <summary>The first role.</summary>
/// <param name="script">The test's script.</param>
public sealed class FirstHandler(Script script) : ScriptedPlaced(script)
{
    /// <inheritdoc />
    protected override string Role => "first";
}

/// <summary>The second role.</summary>
/// <param name="script">The test's script.</param>
public sealed class SecondHandler(Script script) : ScriptedPlaced(script)
{
    /// <inheritdoc />
    protected override string Role => "second";
}

/// <summary>Handles whatever its pattern matches, untyped, recording the id of the suite's events.</summary>
/// <param name="script">The test's script.</param>
public sealed class AnyHandler(Script script) : IEventHandler<object>
{
    /// <inheritdoc />
    public Task HandleAsync(EventContext<object> context, CancellationToken cancellationToken)
    {
        int id = context.Event switch
        {
            Placed p => p.Id,
            Paid p => p.Id,
            ShippedLate s => s.Id,
            _ => -1,
        };
        return script.RunAsync("any", id, context.Attempt, cancellationToken);
    }
}

/// <summary>Handles <see cref="Strict"/> events (id 0 in the script).</summary>
/// <param name="script">The test's script.</param>
public sealed class StrictHandler(Script script) : IEventHandler<Strict>
{
    /// <inheritdoc />
    public Task HandleAsync(EventContext<Strict> context, CancellationToken cancellationToken) =>
        script.RunAsync("strict:" + context.Event.Name, 0, context.Attempt, cancellationToken);
}
