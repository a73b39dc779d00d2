namespace Kaitai;

public partial class KaitaiStream
{
    /// <summary>Reads <paramref name="count"/> bytes into a new array.</summary>
    public byte[] ReadBytes(long count)
    {
        if (count is < 0 or > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"requested {count} bytes at position {_pos}; a read is 0 to {int.MaxValue} bytes");
        }

        return ReadBytesCore((int)count);
    }

    /// <summary>Reads <paramref name="count"/> bytes into a new array.</summary>
    public byte[] ReadBytes(ulong count)
    {
        if (count > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"requested {count} bytes at position {_pos}; a read is 0 to {int.MaxValue} bytes");
        }

        return ReadBytesCore((int)count);
    }

    private byte[] ReadBytesCore(int count)
    {
        if (_source is null || count <= _window!.Length)
        {
            return ToPooledArray(Take(count));
        }

        AlignToByte();
        return ReadLarge(count);
    }

    /// <summary>
    /// Windowed, more than the window: the bytes still in the window, then the rest read from the source straight
    /// into the result. A seekable source is checked against its length first; from a pipe the result grows as
    /// bytes arrive, so an untrusted count never allocates much more than the pipe really delivers.
    /// </summary>
    private byte[] ReadLarge(int count)
    {
        if (_sourceLength >= 0 && count > _sourceLength - _pos)
        {
            throw EndOfStream(count);
        }

        // The array can come from the pool in use (UsePool): from a file (the length is checked above) a new one when
        // none was returned; from a pipe only one returned before, which the untrusted length does not allocate.
        var pool = count >= KaitaiArrayPool.MinLength ? t_pool : null;
        var result = (_sourceLength >= 0 ? pool?.Rent(count) : pool?.TryRentReturned(count))
            ?? new byte[_sourceLength >= 0 ? count : Math.Min(count, _window!.Length * 4)];
        var got = 0;
        var at = _pos - _base;
        if (at >= 0 && at < _buffer.Length)
        {
            got = (int)Math.Min(_buffer.Length - at, count);
            _buffer.Span.Slice((int)at, got).CopyTo(result);
        }
        Reposition(_pos + got);
        while (got < count)
        {
            if (got == result.Length)
            {
                Array.Resize(ref result, (int)Math.Min(count, 2L * result.Length));
            }
            var n = _sourceEnded ? 0 : _source!.Read(result, got, result.Length - got);
            if (n == 0)
            {
                _sourceEnded = true;
                throw EndOfStream(count);
            }
            got += n;
            _sourcePos += n;
        }
        _pos += count;
        _base = _sourcePos;
        _buffer = ReadOnlyMemory<byte>.Empty;
        return result;
    }

    /// <summary>Reads every remaining byte.</summary>
    public byte[] ReadBytesFull()
    {
        AlignToByte();
        if (_source is null)
        {
            return Take((int)(_buffer.Length - Math.Min(_pos, _buffer.Length))).ToArray();
        }

        using var all = new MemoryStream();
        var at = _pos - _base;
        if (at >= 0 && at < _buffer.Length)
        {
            all.Write(_buffer.Span[(int)at..]);
        }
        Reposition(_pos + all.Length);
        if (!_sourceEnded)
        {
            _source.CopyTo(all);
        }
        _sourceEnded = true;
        _pos += all.Length;
        _sourcePos = _base = _pos;
        _buffer = ReadOnlyMemory<byte>.Empty;
        return all.ToArray();
    }

    /// <summary>
    /// Reads up to the first <paramref name="terminator"/> byte.
    /// </summary>
    /// <param name="terminator">The byte that ends the data.</param>
    /// <param name="includeTerminator">Whether the result ends with the terminator.</param>
    /// <param name="consumeTerminator">Whether the position moves past the terminator.</param>
    /// <param name="eosError">Whether a missing terminator is an error (otherwise the rest of the stream is returned).</param>
    public byte[] ReadBytesTerm(byte terminator, bool includeTerminator, bool consumeTerminator, bool eosError)
    {
        AlignToByte();
        if (_source is not null)
        {
            return ReadBytesTermWindowed(terminator, includeTerminator, consumeTerminator, eosError);
        }
        var start = (int)Math.Min(_pos, _buffer.Length);
        var rest = _buffer.Span[start..];
        var at = rest.IndexOf(terminator);
        if (at < 0)
        {
            if (eosError)
            {
                throw new EndOfStreamException($"end of stream reached at position {_buffer.Length}, but no terminator {terminator} found after position {start}");
            }

            _pos = Math.Max(_pos, _buffer.Length);
            return rest.ToArray();
        }

        _pos = start + at + (consumeTerminator ? 1 : 0);
        return rest[..(at + (includeTerminator ? 1 : 0))].ToArray();
    }

    private byte[] ReadBytesTermWindowed(byte terminator, bool includeTerminator, bool consumeTerminator, bool eosError)
    {
        var start = _pos;
        using var acc = new MemoryStream();
        while (true)
        {
            var avail = Peek(_window!.Length);
            if (avail.IsEmpty)
            {
                if (eosError)
                {
                    throw new EndOfStreamException($"end of stream reached at position {_pos}, but no terminator {terminator} found after position {start}");
                }
                return acc.ToArray();
            }
            var at = avail.IndexOf(terminator);
            if (at >= 0)
            {
                acc.Write(avail[..(at + (includeTerminator ? 1 : 0))]);
                _pos += at + (consumeTerminator ? 1 : 0);
                return acc.ToArray();
            }
            acc.Write(avail);
            _pos += avail.Length;
        }
    }

    /// <summary>
    /// Reads up to the first occurrence of the multi-byte <paramref name="terminator"/> that starts on a
    /// multiple of its length from the current position (e.g. a UTF-16 NUL).
    /// </summary>
    public byte[] ReadBytesTermMulti(byte[] terminator, bool includeTerminator, bool consumeTerminator, bool eosError)
    {
        ArgumentNullException.ThrowIfNull(terminator);
        AlignToByte();
        var unit = terminator.Length;
        if (_source is not null)
        {
            return ReadBytesTermMultiWindowed(terminator, includeTerminator, consumeTerminator, eosError);
        }
        var start = (int)Math.Min(_pos, _buffer.Length);
        var rest = _buffer.Span[start..];
        for (var i = 0; i + unit <= rest.Length; i += unit)
        {
            if (rest.Slice(i, unit).SequenceEqual(terminator))
            {
                _pos = start + i + (consumeTerminator ? unit : 0);
                return rest[..(i + (includeTerminator ? unit : 0))].ToArray();
            }
        }

        if (eosError)
        {
            throw new EndOfStreamException($"end of stream reached at position {_buffer.Length}, but no terminator [{Convert.ToHexString(terminator)}] found after position {start}");
        }

        _pos = Math.Max(_pos, _buffer.Length);
        return rest.ToArray();
    }

    private byte[] ReadBytesTermMultiWindowed(byte[] terminator, bool includeTerminator, bool consumeTerminator, bool eosError)
    {
        var unit = terminator.Length;
        var start = _pos;
        using var acc = new MemoryStream();
        while (true)
        {
            var next = Peek(unit);
            if (next.Length < unit)
            {
                if (eosError)
                {
                    throw new EndOfStreamException($"end of stream reached at position {_pos}, but no terminator [{Convert.ToHexString(terminator)}] found after position {start}");
                }
                acc.Write(next);
                _pos += next.Length;
                return acc.ToArray();
            }
            if (next.SequenceEqual(terminator))
            {
                if (includeTerminator)
                {
                    acc.Write(next);
                }
                _pos += consumeTerminator ? unit : 0;
                return acc.ToArray();
            }
            acc.Write(next);
            _pos += unit;
        }
    }

    /// <summary>Returns <paramref name="src"/> without the trailing <paramref name="padByte"/> bytes.</summary>
    public static byte[] BytesStripRight(byte[] src, byte padByte)
    {
        ArgumentNullException.ThrowIfNull(src);
        var newLen = src.Length;
        while (newLen > 0 && src[newLen - 1] == padByte)
        {
            newLen--;
        }

        return src.AsSpan(0, newLen).ToArray();
    }

    /// <summary>Returns <paramref name="src"/> up to the first <paramref name="terminator"/> (and including it if asked).</summary>
    public static byte[] BytesTerminate(byte[] src, byte terminator, bool includeTerminator)
    {
        ArgumentNullException.ThrowIfNull(src);
        var at = Array.IndexOf(src, terminator);
        if (at < 0)
        {
            return (byte[])src.Clone();
        }

        return src.AsSpan(0, at + (includeTerminator ? 1 : 0)).ToArray();
    }

    /// <summary>Returns <paramref name="src"/> up to the first aligned occurrence of <paramref name="terminator"/>.</summary>
    public static byte[] BytesTerminateMulti(byte[] src, byte[] terminator, bool includeTerminator)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(terminator);
        var unit = terminator.Length;
        for (var i = 0; i + unit <= src.Length; i += unit)
        {
            if (src.AsSpan(i, unit).SequenceEqual(terminator))
            {
                return src.AsSpan(0, i + (includeTerminator ? unit : 0)).ToArray();
            }
        }

        return (byte[])src.Clone();
    }

    /// <summary>A copy of the whole buffer, whatever the position (not for a windowed stream, which does not hold its content).</summary>
    public byte[] ToByteArray() => _source is null
        ? _buffer.ToArray()
        : throw new NotSupportedException("a windowed KaitaiStream does not hold its content");
}
