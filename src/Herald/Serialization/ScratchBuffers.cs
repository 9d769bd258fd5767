using System.Buffers;
using System.Text.Json;

namespace Herald;

/// <summary>
/// Growable buffers and JSON writers kept per thread for encoding, so an encode does not allocate a buffer that it
/// copies out of and drops. A <see cref="Utf8JsonWriter"/> asks its output for 4 KB at a time: a fresh
/// <see cref="ArrayBufferWriter{T}"/> per event cost one 4 KB array for the payload and one for the envelope.
/// </summary>
/// <remarks>
/// Taken while in use (a nested encode on the same thread gets fresh ones) and given back empty; a buffer grown past
/// <see cref="MaxKept"/> by a large event is dropped, not kept for the thread's life.
/// </remarks>
internal static class ScratchBuffers
{
    /// <summary>The largest buffer kept for a thread.</summary>
    public const int MaxKept = 64 * 1024;

    private const int InitialSize = 4096 + 1024; // one Utf8JsonWriter request and room for what it flushed before
    private static readonly ArrayBufferWriter<byte> Detached = new(1);

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _first;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _second;

    [ThreadStatic]
    private static Utf8JsonWriter? _writer;

    /// <summary>An empty buffer for this thread's use until <see cref="Return(ArrayBufferWriter{byte})"/>.</summary>
    public static ArrayBufferWriter<byte> Rent()
    {
        ArrayBufferWriter<byte>? buffer = _first;
        if (buffer is not null)
        {
            _first = null;
            return buffer;
        }

        buffer = _second;
        if (buffer is not null)
        {
            _second = null;
            return buffer;
        }

        return new ArrayBufferWriter<byte>(InitialSize);
    }

    /// <summary>Gives <paramref name="buffer"/> back (emptied); its written bytes must not be used after.</summary>
    public static void Return(ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity > MaxKept)
        {
            return;
        }

        buffer.ResetWrittenCount();
        if (_first is null)
        {
            _first = buffer;
        }
        else
        {
            _second ??= buffer;
        }
    }

    /// <summary>A JSON writer (default options) onto <paramref name="output"/>, for this thread's use until <see cref="Return(Utf8JsonWriter)"/>.</summary>
    public static Utf8JsonWriter RentWriter(IBufferWriter<byte> output)
    {
        Utf8JsonWriter? writer = _writer;
        if (writer is null)
        {
            return new Utf8JsonWriter(output);
        }

        _writer = null;
        writer.Reset(output);
        return writer;
    }

    /// <summary>Gives <paramref name="writer"/> back, flushed or not: it is detached from its output and keeps nothing.</summary>
    public static void Return(Utf8JsonWriter writer)
    {
        writer.Reset(Detached);
        _writer = writer;
    }
}
