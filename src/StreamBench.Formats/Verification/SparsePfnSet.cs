namespace StreamBench.Formats.Verification;

/// <summary>
/// A set of pfns stored as a sparse bitmap: chunks of <see cref="ChunkPfns"/> pfns allocated only when a pfn in them
/// is added, with a hard cap of <see cref="MaxChunks"/> chunks (4 MiB of bits plus the dictionary), so memory is
/// bounded whatever the stream claims. Once full, <see cref="Add"/> returns false and the caller stops checking.
/// </summary>
internal sealed class SparsePfnSet
{
    /// <summary>pfns per chunk (512 bytes of bits).</summary>
    public const int ChunkPfns = 4096;

    /// <summary>The most chunks kept (covers 2^25 pfns = 128 GiB of guest memory when dense).</summary>
    public const int MaxChunks = 8192;

    private readonly Dictionary<ulong, ulong[]> _chunks = [];

    /// <summary>Whether the cap was reached (then <see cref="Contains"/> answers only for what was kept).</summary>
    public bool Full { get; private set; }

    /// <summary>Adds <paramref name="pfn"/>; false when it needed a new chunk beyond the cap.</summary>
    public bool Add(ulong pfn)
    {
        var key = pfn / ChunkPfns;
        if (!_chunks.TryGetValue(key, out var bits))
        {
            if (_chunks.Count >= MaxChunks)
            {
                Full = true;
                return false;
            }
            bits = new ulong[ChunkPfns / 64];
            _chunks[key] = bits;
        }
        var bit = (int)(pfn % ChunkPfns);
        bits[bit >> 6] |= 1ul << (bit & 63);
        return true;
    }

    /// <summary>Whether <paramref name="pfn"/> was added.</summary>
    public bool Contains(ulong pfn)
    {
        if (!_chunks.TryGetValue(pfn / ChunkPfns, out var bits))
        {
            return false;
        }
        var bit = (int)(pfn % ChunkPfns);
        return (bits[bit >> 6] & (1ul << (bit & 63))) != 0;
    }
}
