using System.Buffers.Binary;

namespace Kaitai;

/// <summary>
/// The read side of the Kaitai Struct runtime, with the member names and signatures that
/// kaitai-struct-compiler 0.11.0's C# output calls (the same as KaitaiStruct.Runtime.CSharp's KaitaiStream).
/// </summary>
/// <remarks>
/// Unlike the upstream class (a <see cref="BinaryReader"/>), this one works on an in-memory buffer with a
/// position: integer and float reads decode straight from a span with <see cref="BinaryPrimitives"/> and
/// allocate nothing. The <see cref="Stream"/> and file constructors read the whole content into memory first,
/// so one stream holds at most <see cref="int.MaxValue"/> bytes. Reading past the end throws
/// <see cref="EndOfStreamException"/> naming the position, the request and the size.
/// </remarks>
public partial class KaitaiStream
{
    private readonly ReadOnlyMemory<byte> _buffer;
    private int _pos;

    /// <summary>Creates a stream over <paramref name="bytes"/> (not copied).</summary>
    public KaitaiStream(byte[] bytes)
        : this(new ReadOnlyMemory<byte>(bytes ?? throw new ArgumentNullException(nameof(bytes))))
    {
    }

    /// <summary>Creates a stream over <paramref name="buffer"/> (not copied).</summary>
    public KaitaiStream(ReadOnlyMemory<byte> buffer)
    {
        _buffer = buffer;
    }

    /// <summary>
    /// Creates a stream holding the content of <paramref name="stream"/>. A seekable stream is read whole and
    /// <see cref="Pos"/> starts at its current position (as with the upstream runtime, positions are offsets
    /// in <paramref name="stream"/>); a non-seekable one is read to its end and positions start at 0.
    /// </summary>
    public KaitaiStream(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek)
        {
            var start = stream.Position;
            if (stream.Length > int.MaxValue)
            {
                throw new NotSupportedException($"stream of {stream.Length} bytes is larger than the {int.MaxValue} bytes a KaitaiStream can hold");
            }

            var bytes = new byte[stream.Length];
            stream.Position = 0;
            stream.ReadExactly(bytes);
            stream.Position = start;
            _buffer = bytes;
            _pos = (int)start;
        }
        else
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            _buffer = copy.ToArray();
        }
    }

    /// <summary>Creates a stream holding the content of the file <paramref name="fileName"/> (used by the generated <c>FromFile</c>).</summary>
    public KaitaiStream(string fileName)
        : this(File.ReadAllBytes(fileName))
    {
    }

    #region Stream positioning

    /// <summary>Whether every byte (and every buffered bit) has been read.</summary>
    public bool IsEof => _pos >= _buffer.Length && _bitsLeft == 0;

    /// <summary>The current position, in bytes from the start of the buffer.</summary>
    public long Pos => _pos;

    /// <summary>The size of the buffer, in bytes.</summary>
    public long Size => _buffer.Length;

    /// <summary>
    /// Moves to <paramref name="position"/> bytes from the start. Positions past the end are allowed (the next
    /// read then fails), as with a <see cref="MemoryStream"/>; negative ones are not.
    /// </summary>
    public void Seek(long position)
    {
        if (position < 0 || position > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"cannot seek to {position} in a stream of {_buffer.Length} bytes");
        }

        AlignToByte();
        _pos = (int)position;
    }

    #endregion

    #region Integer types

    /// <summary>Reads a signed byte.</summary>
    public sbyte ReadS1() => (sbyte)Take(1)[0];

    /// <summary>Reads a big-endian signed 16-bit integer.</summary>
    public short ReadS2be() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    /// <summary>Reads a big-endian signed 32-bit integer.</summary>
    public int ReadS4be() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    /// <summary>Reads a big-endian signed 64-bit integer.</summary>
    public long ReadS8be() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    /// <summary>Reads a little-endian signed 16-bit integer.</summary>
    public short ReadS2le() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));

    /// <summary>Reads a little-endian signed 32-bit integer.</summary>
    public int ReadS4le() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    /// <summary>Reads a little-endian signed 64-bit integer.</summary>
    public long ReadS8le() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    /// <summary>Reads an unsigned byte.</summary>
    public byte ReadU1() => Take(1)[0];

    /// <summary>Reads a big-endian unsigned 16-bit integer.</summary>
    public ushort ReadU2be() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    /// <summary>Reads a big-endian unsigned 32-bit integer.</summary>
    public uint ReadU4be() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    /// <summary>Reads a big-endian unsigned 64-bit integer.</summary>
    public ulong ReadU8be() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    /// <summary>Reads a little-endian unsigned 16-bit integer.</summary>
    public ushort ReadU2le() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    /// <summary>Reads a little-endian unsigned 32-bit integer.</summary>
    public uint ReadU4le() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    /// <summary>Reads a little-endian unsigned 64-bit integer.</summary>
    public ulong ReadU8le() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    #endregion

    #region Floating point types

    /// <summary>Reads a big-endian IEEE 754 single.</summary>
    public float ReadF4be() => BinaryPrimitives.ReadSingleBigEndian(Take(4));

    /// <summary>Reads a big-endian IEEE 754 double.</summary>
    public double ReadF8be() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

    /// <summary>Reads a little-endian IEEE 754 single.</summary>
    public float ReadF4le() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    /// <summary>Reads a little-endian IEEE 754 double.</summary>
    public double ReadF8le() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    #endregion

    /// <summary>
    /// Drops any partly read byte, checks that <paramref name="count"/> bytes remain, and returns them as a
    /// span, moving past them. Every byte-aligned read goes through here.
    /// </summary>
    private ReadOnlySpan<byte> Take(int count)
    {
        AlignToByte();
        if (count == 0)
        {
            return ReadOnlySpan<byte>.Empty; // even past the end, as a MemoryStream would
        }

        EnsureAvailable(count);
        var span = _buffer.Span.Slice(_pos, count);
        _pos += count;
        return span;
    }

    private void EnsureAvailable(long count)
    {
        if (count > _buffer.Length - (long)_pos)
        {
            throw new EndOfStreamException(
                $"requested {count} byte(s) at position {_pos} (0x{_pos:X}), but only {Math.Max(0L, _buffer.Length - (long)_pos)} remain in a stream of {_buffer.Length} byte(s)");
        }
    }
}
