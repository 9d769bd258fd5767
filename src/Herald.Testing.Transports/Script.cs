using System.Collections.Concurrent;

namespace Herald.Testing.Transports;

/// <summary>
/// What the suite's handlers do, set by each test (fail some attempts, hold some events), and what they saw. One per
/// test; handlers get it from DI.
/// </summary>
public sealed class Script
{
    private readonly ConcurrentDictionary<int, (int Attempts, string? Role)> _failAttempts = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _held = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _started = new();

    /// <summary>Every attempt a handler made: the handler's role, the event id, the attempt and when.</summary>
    public ConcurrentQueue<(string Role, int Id, int Attempt, DateTimeOffset At)> Attempts { get; } = new();

    /// <summary>Effects applied (attempts that completed), per role and id.</summary>
    public ConcurrentDictionary<(string Role, int Id), int> Effects { get; } = new();

    /// <summary>Makes the first <paramref name="attempts"/> attempts at <paramref name="id"/> throw (int.MaxValue: every attempt), in every role or in <paramref name="role"/> only.</summary>
    public void Fail(int id, int attempts = int.MaxValue, string? role = null) => _failAttempts[id] = (attempts, role);

    /// <summary>Lets <paramref name="id"/> succeed from now on.</summary>
    public void Heal(int id) => _failAttempts.TryRemove(id, out _);

    /// <summary>Makes the handlers of <paramref name="id"/> wait until <see cref="Release"/> (or until their token is cancelled).</summary>
    public void Hold(int id) => _held[id] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the held handlers of <paramref name="id"/> go on.</summary>
    public void Release(int id)
    {
        if (_held.TryRemove(id, out TaskCompletionSource? gate))
        {
            gate.TrySetResult();
        }
    }

    /// <summary>Completes when a handler has started an attempt at <paramref name="id"/>.</summary>
    public Task Started(int id) => _started.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Runs one attempt as scripted: records it, waits while held, throws while failing, then counts the effect.</summary>
    /// <param name="role">The handler's role (its registered name).</param>
    /// <param name="id">The event id.</param>
    /// <param name="attempt">The attempt number the context carries.</param>
    /// <param name="cancellationToken">The handler's token.</param>
    /// <exception cref="InvalidOperationException">The script says this attempt fails.</exception>
    public async Task RunAsync(string role, int id, int attempt, CancellationToken cancellationToken)
    {
        Attempts.Enqueue((role, id, attempt, TimeProvider.System.GetUtcNow()));
        _started.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        if (_held.TryGetValue(id, out TaskCompletionSource? gate))
        {
            await gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_failAttempts.TryGetValue(id, out (int Attempts, string? Role) failing) && attempt <= failing.Attempts && (failing.Role is null || failing.Role == role))
        {
            throw new InvalidOperationException($"scripted failure of event {id}, attempt {attempt}");
        }

        Effects.AddOrUpdate((role, id), 1, (_, n) => n + 1);
    }
}
