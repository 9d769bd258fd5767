namespace Herald;

/// <summary>Which way a stream is read.</summary>
public enum ReadDirection
{
    /// <summary>From older to newer events.</summary>
    Forwards,

    /// <summary>From newer to older events.</summary>
    Backwards,
}
