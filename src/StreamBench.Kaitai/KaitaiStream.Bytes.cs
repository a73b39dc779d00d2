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

        return Take((int)count).ToArray();
    }

    /// <summary>Reads <paramref name="count"/> bytes into a new array.</summary>
    public byte[] ReadBytes(ulong count)
    {
        if (count > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"requested {count} bytes at position {_pos}; a read is 0 to {int.MaxValue} bytes");
        }

        return Take((int)count).ToArray();
    }

    /// <summary>Reads every remaining byte.</summary>
    public byte[] ReadBytesFull()
    {
        AlignToByte();
        return Take(_buffer.Length - Math.Min(_pos, _buffer.Length)).ToArray();
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
        var start = Math.Min(_pos, _buffer.Length);
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

    /// <summary>
    /// Reads up to the first occurrence of the multi-byte <paramref name="terminator"/> that starts on a
    /// multiple of its length from the current position (e.g. a UTF-16 NUL).
    /// </summary>
    public byte[] ReadBytesTermMulti(byte[] terminator, bool includeTerminator, bool consumeTerminator, bool eosError)
    {
        ArgumentNullException.ThrowIfNull(terminator);
        AlignToByte();
        var unit = terminator.Length;
        var start = Math.Min(_pos, _buffer.Length);
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

    /// <summary>A copy of the whole buffer, whatever the position.</summary>
    public byte[] ToByteArray() => _buffer.ToArray();
}
