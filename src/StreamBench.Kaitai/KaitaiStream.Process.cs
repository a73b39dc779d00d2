using System.IO.Compression;

namespace Kaitai;

public partial class KaitaiStream
{
    /// <summary><c>process: xor(key)</c> with a single-byte key.</summary>
    public byte[] ProcessXor(byte[] value, int key)
    {
        ArgumentNullException.ThrowIfNull(value);
        var result = new byte[value.Length];
        for (var i = 0; i < value.Length; i++)
        {
            result[i] = (byte)(value[i] ^ key);
        }

        return result;
    }

    /// <summary><c>process: xor(key)</c> with a multi-byte key, repeated as needed.</summary>
    public byte[] ProcessXor(byte[] value, byte[] key)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0)
        {
            throw new ArgumentException("xor key is empty", nameof(key));
        }

        var result = new byte[value.Length];
        for (int i = 0, j = 0; i < value.Length; i++, j = (j + 1) % key.Length)
        {
            result[i] = (byte)(value[i] ^ key[j]);
        }

        return result;
    }

    /// <summary><c>process: rol(amount)</c> / <c>ror</c>: rotates every byte left by <paramref name="amount"/> bits (negative: right).</summary>
    public byte[] ProcessRotateLeft(byte[] data, int amount, int groupSize)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (amount is > 7 or < -7)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, "a byte rotation is -7 to 7 bits");
        }

        if (groupSize != 1)
        {
            throw new NotSupportedException($"rotating groups of {groupSize} bytes is not supported");
        }

        if (amount < 0)
        {
            amount += 8;
        }

        var r = new byte[data.Length];
        for (var i = 0; i < data.Length; i++)
        {
            r[i] = (byte)((data[i] << amount) | (data[i] >> (8 - amount)));
        }

        return r;
    }

    /// <summary><c>process: zlib</c>: inflates a zlib (RFC 1950) stream.</summary>
    public byte[] ProcessZlib(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var input = new MemoryStream(data, writable: false);
        using var zlib = new ZLibStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        zlib.CopyTo(output);
        return output.ToArray();
    }
}
