namespace Kaitai;

/// <summary>
/// Arrays of exact lengths for <see cref="KaitaiStream.ReadBytes(long)"/> to reuse, for a caller that knows when the
/// arrays it was handed are garbage: the streaming <c>dump --kaitai</c> parses one record at a time with the
/// generated (eager) parsers, which read every record body, and every page of a PAGE_DATA batch, into a new array;
/// once a record is printed and dropped, its arrays come back here and the next record's reads take them again, so
/// that a 1 GiB stream no longer allocates 2 GiB of arrays (the body's copy, then its pages) and faults the memory in.
/// Only arrays of at least <see cref="MinLength"/> bytes are pooled, up to <see cref="MaxBytes"/> in all. Not
/// thread-safe: one pool serves one parsing thread (<see cref="KaitaiStream.UsePool"/>).
/// </summary>
public sealed class KaitaiArrayPool
{
    /// <summary>The shortest array the pool hands out or keeps (one 4 KiB page).</summary>
    public const int MinLength = 4096;

    private readonly Dictionary<int, Stack<byte[]>> _free = [];
    private long _held;

    /// <summary>Creates a pool that holds at most <paramref name="maxBytes"/> of returned arrays.</summary>
    public KaitaiArrayPool(long maxBytes = 32L << 20)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        MaxBytes = maxBytes;
    }

    /// <summary>The most bytes of returned arrays the pool keeps (more are left to the GC).</summary>
    public long MaxBytes { get; }

    /// <summary>Bytes of arrays the pool holds now.</summary>
    public long HeldBytes => _held;

    /// <summary>Arrays handed out again (tests).</summary>
    public long Reused { get; private set; }

    /// <summary>An array of exactly <paramref name="length"/> bytes, reused when one was returned; its contents are
    /// whatever it held before (the reader overwrites every byte).</summary>
    internal byte[] Rent(int length) => TryRentReturned(length) ?? GC.AllocateUninitializedArray<byte>(length);

    /// <summary>A returned array of exactly <paramref name="length"/> bytes, or null: never a new allocation, so a length
    /// read from a pipe (not yet checked against what the pipe delivers) can ask.</summary>
    internal byte[]? TryRentReturned(int length)
    {
        if (_free.TryGetValue(length, out var stack) && stack.Count > 0)
        {
            _held -= length;
            Reused++;
            return stack.Pop();
        }

        return null;
    }

    /// <summary>Gives <paramref name="array"/> back: the caller holds no reference to it any more.</summary>
    public void Return(byte[]? array)
    {
        if (array is null || array.Length < MinLength || _held + array.Length > MaxBytes)
        {
            return;
        }

        if (!_free.TryGetValue(array.Length, out var stack))
        {
            stack = new Stack<byte[]>();
            _free.Add(array.Length, stack);
        }

        stack.Push(array);
        _held += array.Length;
    }
}
