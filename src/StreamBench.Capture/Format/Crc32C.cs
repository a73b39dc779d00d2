using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace StreamBench.Capture.Format;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF; "123456789" →
/// 0xE3069283), as iSCSI, ext4 and SSE4.2 compute it. Uses the CPU's CRC32 instruction when there is one (three
/// independent streams interleaved to hide its latency, then combined), otherwise a slicing-by-8 table.
/// </summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F6_3B78u;

    /// <summary>Block length of each of the three interleaved streams.</summary>
    private const int InterleaveBlock = 4096;

    private static readonly uint[] Table = BuildTable();

    /// <summary>x^(8·InterleaveBlock) mod P: multiplying a register by it is the same as feeding it a block of zeros.</summary>
    private static readonly uint ShiftOneBlock = ShiftConstant(InterleaveBlock);

    /// <summary>Whether the CPU's CRC32C instruction is used.</summary>
    public static bool IsHardwareAccelerated => Sse42.X64.IsSupported || System.Runtime.Intrinsics.Arm.Crc32.Arm64.IsSupported;

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(~0u, data);

    /// <summary>Continues a CRC-32C: <c>Append(Compute(a), b) == Compute(a ‖ b)</c>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) => ~Update(~crc, data);

    /// <summary>Advances the raw register (no initial value or final XOR).</summary>
    internal static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            return UpdateSse42(state, data);
        }
        if (System.Runtime.Intrinsics.Arm.Crc32.Arm64.IsSupported)
        {
            return UpdateScalarIntrinsic(state, data);
        }
        return UpdateSoftware(state, data);
    }

    private static uint UpdateSse42(uint state, ReadOnlySpan<byte> data)
    {
        // Three streams of InterleaveBlock bytes run in one loop: the instruction has a latency of 3 cycles and a
        // throughput of 1, so one stream alone leaves two thirds of the unit idle.
        const int round = 3 * InterleaveBlock;
        ulong crc0 = state;
        while (data.Length >= round)
        {
            var a = MemoryMarshal.Cast<byte, ulong>(data[..InterleaveBlock]);
            var b = MemoryMarshal.Cast<byte, ulong>(data.Slice(InterleaveBlock, InterleaveBlock));
            var c = MemoryMarshal.Cast<byte, ulong>(data.Slice(2 * InterleaveBlock, InterleaveBlock));
            ulong crc1 = 0, crc2 = 0;
            for (var i = 0; i < a.Length; i++)
            {
                crc0 = Sse42.X64.Crc32(crc0, a[i]);
                crc1 = Sse42.X64.Crc32(crc1, b[i]);
                crc2 = Sse42.X64.Crc32(crc2, c[i]);
            }
            var combined = MultiplyModP(ShiftOneBlock, (uint)crc0) ^ (uint)crc1;
            crc0 = MultiplyModP(ShiftOneBlock, combined) ^ (uint)crc2;
            data = data[round..];
        }
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var w in words)
        {
            crc0 = Sse42.X64.Crc32(crc0, w);
        }
        var crc = (uint)crc0;
        foreach (var b in data[(words.Length * 8)..])
        {
            crc = Sse42.Crc32(crc, b);
        }
        return crc;
    }

    private static uint UpdateScalarIntrinsic(uint crc, ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var w in words)
        {
            crc = BitOperations.Crc32C(crc, w);
        }
        foreach (var b in data[(words.Length * 8)..])
        {
            crc = BitOperations.Crc32C(crc, b);
        }
        return crc;
    }

    /// <summary>Slicing-by-8 over the table; the path for CPUs without the instruction (and the tests' reference).</summary>
    internal static uint UpdateSoftware(uint crc, ReadOnlySpan<byte> data)
    {
        var t = Table;
        while (data.Length >= 8)
        {
            var lo = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            var hi = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = t[(7 * 256) + (lo & 0xFF)] ^ t[(6 * 256) + ((lo >> 8) & 0xFF)] ^ t[(5 * 256) + ((lo >> 16) & 0xFF)] ^ t[(4 * 256) + (lo >> 24)]
                ^ t[(3 * 256) + (hi & 0xFF)] ^ t[(2 * 256) + ((hi >> 8) & 0xFF)] ^ t[256 + ((hi >> 16) & 0xFF)] ^ t[hi >> 24];
            data = data[8..];
        }
        foreach (var b in data)
        {
            crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc;
    }

    private static uint[] BuildTable()
    {
        var t = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }
            t[i] = c;
        }
        for (var i = 0; i < 256; i++)
        {
            for (var s = 1; s < 8; s++)
            {
                var prev = t[((s - 1) * 256) + i];
                t[(s * 256) + i] = (prev >> 8) ^ t[prev & 0xFF];
            }
        }
        return t;
    }

    /// <summary>x^(8·<paramref name="bytes"/>) mod P, in the reflected representation (bit 31 is x^0).</summary>
    private static uint ShiftConstant(int bytes) => UpdateSoftware(0x8000_0000u, new byte[bytes]);

    /// <summary>a·b mod P in the reflected representation (zlib's multmodp).</summary>
    internal static uint MultiplyModP(uint a, uint b)
    {
        var m = 0x8000_0000u;
        var p = 0u;
        while (true)
        {
            if ((a & m) != 0)
            {
                p ^= b;
                if ((a & (m - 1)) == 0)
                {
                    return p;
                }
            }
            m >>= 1;
            b = (b & 1) != 0 ? (b >> 1) ^ Polynomial : b >> 1;
        }
    }
}
