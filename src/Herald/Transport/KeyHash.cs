namespace Herald.Transport;

/// <summary>The stable hash of an ordering key (<see cref="Envelope.Subject"/>): the same key picks the same lane or partition in every process.</summary>
public static class KeyHash
{
    /// <summary>FNV-1a over the key's UTF-16 characters.</summary>
    /// <param name="key">The key.</param>
    public static uint Of(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        uint hash = 2166136261;
        foreach (char c in key)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }

    /// <summary>The lane of <paramref name="key"/> among <paramref name="lanes"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="lanes">How many lanes there are (at least 1).</param>
    public static int Lane(string key, int lanes) => lanes <= 1 ? 0 : (int)(Of(key) % (uint)lanes);
}
