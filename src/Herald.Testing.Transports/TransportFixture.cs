namespace Herald.Testing.Transports;

/// <summary>
/// One test's place on a transport: the conformance suite makes one per test, puts every Herald of that test on it
/// (<see cref="Use"/>; a restart uses the same place again), and disposes it afterwards. Derive one per transport; give
/// each instance a place of its own (a temporary file, a unique exchange or prefix) so tests can run in parallel.
/// </summary>
public abstract class TransportFixture : IAsyncDisposable
{
    /// <summary>What the transport promises.</summary>
    public abstract TransportFeatures Features { get; }

    /// <summary>Puts a Herald on this fixture's place (e.g. <c>h.UseSqlite(file)</c>); called again for a restart.</summary>
    /// <param name="herald">The Herald being configured.</param>
    public abstract void Use(HeraldBuilder herald);

    /// <summary>
    /// Puts bad input of <paramref name="kind"/> on <paramref name="topic"/> as a foreign producer would (raw bytes, not
    /// through Herald's publish); false when the transport has no such input (in memory nothing is encoded).
    /// </summary>
    /// <param name="topic">The topic (routing key, subject) to put it on.</param>
    /// <param name="kind">What is wrong with it.</param>
    /// <param name="cancellationToken">Stops the write.</param>
    public virtual ValueTask<bool> InjectAsync(string topic, PoisonKind kind, CancellationToken cancellationToken) => ValueTask.FromResult(false);

    /// <summary>
    /// The consumer groups (queues, stored groups) the place holds now, or null when the transport keeps none beyond a
    /// process. The suite checks that a test harness leaves none of its own behind.
    /// </summary>
    /// <param name="cancellationToken">Stops the query.</param>
    public virtual ValueTask<IReadOnlyCollection<string>?> ConsumerGroupsAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyCollection<string>?>(null);

    /// <summary>Removes the place (deletes the file, the queues).</summary>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
