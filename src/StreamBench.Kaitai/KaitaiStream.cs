using System.Buffers.Binary;

namespace Kaitai;

/// <summary>
/// The read side of the Kaitai Struct runtime, with the member names and signatures that
/// kaitai-struct-compiler 0.11.0's C# output calls (the same as KaitaiStruct.Runtime.CSharp's KaitaiStream).
/// </summary>
/// <remarks>
/// Unlike the upstream class (a <see cref="BinaryReader"/>), this one works on a buffer with a position: integer
/// and float reads decode straight from a span with <see cref="BinaryPrimitives"/> and allocate nothing. The
/// buffer is either the whole content in memory (the byte-array and memory constructors; the <see cref="Stream"/>
/// and file constructors read the whole content first, at most <see cref="int.MaxValue"/> bytes), or a bounded
/// window over a file or pipe (<see cref="Windowed"/>): it holds only the bytes not yet read, up to the window
/// size, refilled from the source as the parser moves on, so memory does not grow with the input. Reading past the
/// end throws <see cref="EndOfStreamException"/> naming the position, the request and the size.
/// </remarks>
public partial class KaitaiStream
{
    /// <summary>The default window of <see cref="Windowed"/>: 1 MiB.</summary>
    public const int DefaultWindow = 1 << 20;

    // In memory: _buffer is the whole content and _base is 0. Windowed: _buffer is the part of _window that holds
    // source bytes, and _base is the position of _buffer[0] in the source.
    private ReadOnlyMemory<byte> _buffer;
    private long _base;
    private long _pos;

    private readonly Stream? _source;
    private readonly byte[]? _window;
    private readonly long _sourceLength = -1; // known for a seekable source; for a pipe once it has ended
    private long _sourcePos;                  // the position of the next byte the source returns
    private bool _sourceEnded;

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

    private KaitaiStream(Stream source, int window)
    {
        _source = source;
        _window = new byte[window];
        _buffer = ReadOnlyMemory<byte>.Empty;
        if (source.CanSeek)
        {
            _sourceLength = source.Length - source.Position;
            _base = _pos = _sourcePos = 0;
        }
    }

    /// <summary>
    /// A stream that reads <paramref name="source"/> (a file or a pipe, from its current position, which becomes
    /// position 0) through a window of <paramref name="window"/> bytes instead of holding it whole. Reads of up to
    /// the window size are served from the window; longer ones (<see cref="ReadBytes(long)"/> of a large body) go
    /// straight from the source into the result. A seekable source can be sought anywhere; a pipe only forwards
    /// or within the window. <see cref="Size"/> of a pipe is known once it has ended. The caller keeps ownership
    /// of <paramref name="source"/>.
    /// </summary>
    public static KaitaiStream Windowed(Stream source, int window = DefaultWindow)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 64);
        return new KaitaiStream(source, window);
    }

    /// <summary>Whether this stream reads through a window (see <see cref="Windowed"/>) rather than holding its content.</summary>
    public bool IsWindowed => _source is not null;

    /// <summary>The most bytes one <see cref="Peek"/> returns: the window size, or the whole content in memory.</summary>
    public int PeekLimit => _window?.Length ?? int.MaxValue;

    #region Stream positioning

    /// <summary>Whether every byte (and every buffered bit) has been read.</summary>
    public bool IsEof
    {
        get
        {
            if (_bitsLeft != 0 || _pos < _base + _buffer.Length)
            {
                return false;
            }
            if (_source is null)
            {
                return true;
            }
            if (_sourceLength >= 0)
            {
                return _pos >= _sourceLength;
            }
            return !Fill(1);
        }
    }

    /// <summary>The current position, in bytes from the start of the buffer.</summary>
    public long Pos => _pos;

    /// <summary>
    /// The size of the content, in bytes. For a windowed pipe it is known only once the pipe has ended (asking
    /// earlier throws <see cref="NotSupportedException"/>).
    /// </summary>
    public long Size
    {
        get
        {
            if (_source is null)
            {
                return _buffer.Length;
            }
            if (_sourceLength >= 0)
            {
                return _sourceLength;
            }
            if (_sourceEnded)
            {
                return _sourcePos;
            }
            throw new NotSupportedException($"the size of a pipe is not known before its end (read so far: {_sourcePos} bytes)");
        }
    }

    /// <summary>
    /// Moves to <paramref name="position"/> bytes from the start. Positions past the end are allowed (the next
    /// read then fails), as with a <see cref="MemoryStream"/>; negative ones are not, nor, on a windowed pipe,
    /// positions before the window.
    /// </summary>
    public void Seek(long position)
    {
        if (position < 0 || (_source is null && position > int.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"cannot seek to {position} in a stream of {_buffer.Length} bytes");
        }
        if (_source is not null && !_source.CanSeek && position < _base)
        {
            throw new NotSupportedException($"cannot seek back to {position} in a pipe: the window starts at {_base}");
        }

        AlignToByte();
        _pos = position;
    }

    /// <summary>
    /// Up to <paramref name="count"/> bytes from the current position without moving (fewer only at the end of
    /// the content). On a windowed stream <paramref name="count"/> is at most the window size.
    /// </summary>
    public ReadOnlySpan<byte> Peek(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_source is not null)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _window!.Length);
            Fill(count);
        }
        var at = _pos - _base;
        if (at < 0 || at >= _buffer.Length)
        {
            return ReadOnlySpan<byte>.Empty;
        }
        var span = _buffer.Span[(int)at..];
        return span.Length > count ? span[..count] : span;
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
    /// span, moving past them. Every byte-aligned read goes through here (on a windowed stream, count is at most
    /// the window size).
    /// </summary>
    private ReadOnlySpan<byte> Take(int count)
    {
        AlignToByte();
        if (count == 0)
        {
            return ReadOnlySpan<byte>.Empty; // even past the end, as a MemoryStream would
        }

        EnsureAvailable(count);
        var span = _buffer.Span.Slice((int)(_pos - _base), count);
        _pos += count;
        return span;
    }

    private void EnsureAvailable(long count)
    {
        if (_pos >= _base && count <= _base + _buffer.Length - _pos)
        {
            return;
        }
        if (_source is not null && count <= _window!.Length && Fill((int)count))
        {
            return;
        }
        throw EndOfStream(count);
    }

    private EndOfStreamException EndOfStream(long count)
    {
        if (_source is not null && _sourceLength < 0 && !_sourceEnded)
        {
            return new EndOfStreamException($"requested {count} byte(s) at position {_pos} (0x{_pos:X}), more than the window of {_window!.Length} byte(s) holds");
        }
        var size = Size;
        return new EndOfStreamException(
            $"requested {count} byte(s) at position {_pos} (0x{_pos:X}), but only {Math.Max(0L, size - _pos)} remain in a stream of {size} byte(s)");
    }

    /// <summary>
    /// Windowed: makes the window start at the current position and hold at least <paramref name="count"/> bytes
    /// (at most the window size), reading the source as needed; false when the source ends first.
    /// </summary>
    private bool Fill(int count)
    {
        var window = _window!;
        var keep = 0;
        var at = _pos - _base;
        if (at >= 0 && at <= _buffer.Length)
        {
            keep = _buffer.Length - (int)at;
            if (keep >= count)
            {
                return true;
            }
            if (at > 0)
            {
                Buffer.BlockCopy(window, (int)at, window, 0, keep);
            }
        }
        else
        {
            Reposition(_pos);
        }
        _base = _pos;
        var filled = keep;
        while (filled < count && !_sourceEnded)
        {
            var n = _source!.Read(window, filled, window.Length - filled);
            if (n == 0)
            {
                _sourceEnded = true;
                break;
            }
            filled += n;
            _sourcePos += n;
        }
        _buffer = new ReadOnlyMemory<byte>(window, 0, filled);
        return filled >= count;
    }

    /// <summary>Windowed, the window left behind: makes the source's next byte the one at <paramref name="position"/>.</summary>
    private void Reposition(long position)
    {
        _buffer = ReadOnlyMemory<byte>.Empty;
        _base = position;
        if (position == _sourcePos)
        {
            return;
        }
        if (_source!.CanSeek)
        {
            _source.Seek(position - _sourcePos, SeekOrigin.Current);
            _sourcePos = position;
            _sourceEnded = false;
            return;
        }
        if (position < _sourcePos)
        {
            throw new NotSupportedException($"cannot go back to {position} in a pipe (read up to {_sourcePos})");
        }
        var skip = new byte[Math.Min(_window!.Length, 1 << 16)];
        while (_sourcePos < position)
        {
            var n = _source.Read(skip, 0, (int)Math.Min(skip.Length, position - _sourcePos));
            if (n == 0)
            {
                _sourceEnded = true;
                return;
            }
            _sourcePos += n;
        }
    }
}
