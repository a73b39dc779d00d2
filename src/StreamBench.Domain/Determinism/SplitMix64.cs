namespace StreamBench.Domain.Determinism;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): used to expand one 64-bit seed into generator state
/// and to derive independent per-object seeds. Fixed algorithm, so results never change across
/// .NET versions (unlike System.Random).
/// </summary>
public struct SplitMix64
{
    private ulong _state;

    /// <summary>Starts the sequence at <paramref name="seed"/>.</summary>
    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>The next 64-bit output.</summary>
    public ulong Next()
    {
        _state += 0x9E37_79B9_7F4A_7C15ul;
        return Mix(_state);
    }

    /// <summary>The SplitMix64 finaliser: a good 64-bit bijective hash.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9ul;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBul;
        return z ^ (z >> 31);
    }

    /// <summary>Derives a seed for a sub-object (a page, a vCPU) from a parent seed and a key.</summary>
    public static ulong Derive(ulong seed, ulong key) => Mix(Mix(seed ^ 0x5851_F42D_4C95_7F2Dul) + key);

    /// <summary>Derives a seed from a parent seed, a purpose tag and a key.</summary>
    public static ulong Derive(ulong seed, ulong tag, ulong key) => Derive(Derive(seed, tag), key);
}
