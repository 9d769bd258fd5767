using System.Runtime.InteropServices;

namespace Herald.InMemory;

/// <summary>
/// A counter the readers of a queue bump, kept on a cache line of its own: were it a field of the queue object, every
/// read would invalidate the line the publisher reads on every write (false sharing).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal sealed class ReaderCounter
{
    [FieldOffset(64)]
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
}
