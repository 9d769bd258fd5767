namespace Herald;

/// <summary>The topic binding of one event type, resolved once per type (a static generic: one field read per publish).</summary>
internal static class TopicCache<TEvent>
{
    private static readonly TopicBinding? Resolved = TryResolve();

    /// <summary>The binding; throws the type's <see cref="InvalidTopicException"/> when it has none.</summary>
    public static TopicBinding Binding => Resolved ?? Topic.BindingOf(typeof(TEvent));

    private static TopicBinding? TryResolve()
    {
        try
        {
            return Topic.BindingOf(typeof(TEvent));
        }
        catch (InvalidTopicException)
        {
            return null; // rethrown, with the type named, at every use
        }
    }
}
