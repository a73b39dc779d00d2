using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace StreamBench.Domain.Determinism;

/// <summary>
/// xoshiro256** 1.0 (Blackman and Vigna): the bench's deterministic generator. Seeded through
/// SplitMix64 as its authors recommend. Reproducible on every platform and runtime version.
/// </summary>
public sealed class Xoshiro256StarStar
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Seeds the four state words from <paramref name="seed"/> via SplitMix64.</summary>
    public Xoshiro256StarStar(ulong seed)
    {
        var sm = new SplitMix64(seed);
        _s0 = sm.Next();
        _s1 = sm.Next();
        _s2 = sm.Next();
        _s3 = sm.Next();
    }

    private Xoshiro256StarStar(ulong s0, ulong s1, ulong s2, ulong s3)
    {
        _s0 = s0;
        _s1 = s1;
        _s2 = s2;
        _s3 = s3;
    }

    /// <summary>An independent copy at the same position.</summary>
    public Xoshiro256StarStar Clone() => new(_s0, _s1, _s2, _s3);

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>The next 32 random bits (the high half, the better one).</summary>
    public uint NextUInt32() => (uint)(NextUInt64() >> 32);

    /// <summary>A uniform value in [0, <paramref name="bound"/>), without modulo bias (Lemire).</summary>
    public ulong NextBelow(ulong bound)
    {
        ArgumentOutOfRangeException.ThrowIfZero(bound);
        ulong x = NextUInt64();
        UInt128 m = (UInt128)x * bound;
        ulong low = (ulong)m;
        if (low < bound)
        {
            ulong threshold = (0 - bound) % bound;
            while (low < threshold)
            {
                x = NextUInt64();
                m = (UInt128)x * bound;
                low = (ulong)m;
            }
        }

        return (ulong)(m >> 64);
    }

    /// <summary>A uniform int in [0, <paramref name="bound"/>).</summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        return (int)NextBelow((ulong)bound);
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1ul << 53));

    /// <summary>Fills <paramref name="destination"/> with random bytes (little-endian words).</summary>
    public void NextBytes(Span<byte> destination)
    {
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(destination);
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = BitConverter.IsLittleEndian ? NextUInt64() : BinaryPrimitives.ReverseEndianness(NextUInt64());
        }

        int done = words.Length * sizeof(ulong);
        if (done < destination.Length)
        {
            Span<byte> tail = stackalloc byte[sizeof(ulong)];
            BinaryPrimitives.WriteUInt64LittleEndian(tail, NextUInt64());
            tail[..(destination.Length - done)].CopyTo(destination[done..]);
        }
    }
}
