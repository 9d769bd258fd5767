using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Herald;

/// <summary>
/// UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits from a per-thread xorshift generator seeded
/// once per thread from the operating system's secure generator. No lock and no system call per id (the
/// framework's <see cref="Guid.CreateVersion7(DateTimeOffset)"/> asks the OS for randomness every time).
/// Ids are unique with overwhelming probability and sort by time to the millisecond; they are not secrets.
/// </summary>
internal static class UuidV7
{
    [ThreadStatic]
    private static ulong _s0;

    [ThreadStatic]
    private static ulong _s1;

    public static Guid New(DateTimeOffset time)
    {
        ulong milliseconds = (ulong)Math.Max(0, time.ToUnixTimeMilliseconds());
        ulong high = (milliseconds << 16) | 0x7000UL | (Next() & 0x0FFFUL);            // unix_ts_ms | ver 7 | rand_a
        ulong low = (Next() & 0x3FFF_FFFF_FFFF_FFFFUL) | 0x8000_0000_0000_0000UL;       // variant 10 | rand_b
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, high);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], low);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>xorshift128+.</summary>
    private static ulong Next()
    {
        ulong s1 = _s0;
        ulong s0 = _s1;
        if ((s0 | s1) == 0)
        {
            Span<ulong> seed = stackalloc ulong[2];
            do
            {
                RandomNumberGenerator.Fill(System.Runtime.InteropServices.MemoryMarshal.AsBytes(seed));
            }
            while ((seed[0] | seed[1]) == 0);

            s1 = seed[0];
            s0 = seed[1];
        }

        _s0 = s0;
        s1 ^= s1 << 23;
        _s1 = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
        return _s1 + s0;
    }
}
