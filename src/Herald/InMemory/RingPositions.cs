using System.Runtime.InteropServices;

namespace Herald.InMemory;

/// <summary>
/// A <see cref="BoundedRing{T}"/>'s head (readers') and tail (writers') positions, each on its own cache line, so
/// writers and readers do not invalidate each other's line on every move. Not generic: the runtime refuses an
/// explicit layout inside a generic type.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 384)]
internal struct RingPositions
{
    /// <summary>The next position to read.</summary>
    [FieldOffset(128)]
    public long Head;

    /// <summary>The next position to write.</summary>
    [FieldOffset(256)]
    public long Tail;
}
