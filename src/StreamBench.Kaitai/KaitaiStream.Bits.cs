namespace Kaitai;

public partial class KaitaiStream
{
    private int _bitsLeft;
    private ulong _bits;

    /// <summary>Drops the bits left over from a partly read byte; the next read starts on the next byte.</summary>
    public void AlignToByte()
    {
        _bitsLeft = 0;
        _bits = 0;
    }

    /// <summary>Reads an <paramref name="n"/>-bit (1..64) unsigned integer, most significant bit first (<c>bit-endian: be</c>).</summary>
    public ulong ReadBitsIntBe(int n)
    {
        CheckBitCount(n);
        ulong res = 0;
        var bitsNeeded = n - _bitsLeft;
        _bitsLeft = -bitsNeeded & 7; // -bitsNeeded mod 8

        if (bitsNeeded > 0)
        {
            var bytesNeeded = ((bitsNeeded - 1) / 8) + 1; // ceil(bitsNeeded / 8)
            var buf = TakeUnaligned(bytesNeeded);
            for (var i = 0; i < bytesNeeded; i++)
            {
                res = (res << 8) | buf[i];
            }

            var newBits = res;
            res = (res >> _bitsLeft) | (bitsNeeded < 64 ? _bits << bitsNeeded : 0);
            _bits = newBits; // masked below
        }
        else
        {
            res = _bits >> -bitsNeeded; // shift the unneeded bits out
        }

        _bits &= (1UL << _bitsLeft) - 1; // _bitsLeft is 0..7
        return res;
    }

    /// <summary>Reads an <paramref name="n"/>-bit (1..64) unsigned integer, least significant bit first (<c>bit-endian: le</c>).</summary>
    public ulong ReadBitsIntLe(int n)
    {
        CheckBitCount(n);
        ulong res = 0;
        var bitsNeeded = n - _bitsLeft;

        if (bitsNeeded > 0)
        {
            var bytesNeeded = ((bitsNeeded - 1) / 8) + 1; // ceil(bitsNeeded / 8)
            var buf = TakeUnaligned(bytesNeeded);
            for (var i = 0; i < bytesNeeded; i++)
            {
                res |= (ulong)buf[i] << (i * 8);
            }

            // C# masks ulong shift counts with 63, so a shift by 64 must be special-cased.
            var newBits = bitsNeeded < 64 ? res >> bitsNeeded : 0;
            res = (res << _bitsLeft) | _bits;
            _bits = newBits;
        }
        else
        {
            res = _bits;
            _bits >>= n;
        }

        _bitsLeft = -bitsNeeded & 7; // -bitsNeeded mod 8
        if (n < 64)
        {
            res &= (1UL << n) - 1;
        }

        return res;
    }

    private static void CheckBitCount(int n)
    {
        if (n is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "a bit field is 1 to 64 bits wide");
        }
    }

    /// <summary>Takes whole bytes for the bit reader without dropping the buffered bits.</summary>
    private ReadOnlySpan<byte> TakeUnaligned(int count)
    {
        EnsureAvailable(count);
        var span = _buffer.Span.Slice((int)(_pos - _base), count);
        _pos += count;
        return span;
    }
}
