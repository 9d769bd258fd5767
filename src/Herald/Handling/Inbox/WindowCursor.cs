using System.Runtime.InteropServices;

namespace Herald;

/// <summary>
/// The fields an inbox window writes on every claim (its lock, where the ring goes next, how many ids arrived and are
/// remembered), with a cache line of padding either side: the windows of consumers running on different cores are
/// small objects that a collection may compact next to each other, and their claims would otherwise take turns
/// invalidating each other's line (false sharing).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct WindowCursor
{
    /// <summary>A spin lock: 1 while a claim holds the window.</summary>
    [FieldOffset(64)]
    public int Busy;

    /// <summary>The ring slot the next id goes to.</summary>
    [FieldOffset(68)]
    public int Next;

    /// <summary>How many ids have arrived since the window was made.</summary>
    [FieldOffset(72)]
    public long Arrivals;

    /// <summary>How many ids are remembered now.</summary>
    [FieldOffset(80)]
    public int Count;
}
