using System.Numerics;

namespace StreamBench.Domain.Pages;

/// <summary>
/// A set of pfns as a bitmap, stored in 4096-pfn chunks so a few far-apart pfns stay cheap.
/// Used for the dirty log and by engines for "pages still to send".
/// </summary>
public sealed class PfnBitmap
{
    private const int ChunkShift = 12;
    private const int ChunkBits = 1 << ChunkShift;
    private const int WordsPerChunk = ChunkBits / 64;

    private readonly Dictionary<ulong, ulong[]> _chunks = [];
    private long _count;

    /// <summary>Number of pfns in the set.</summary>
    public long Count => _count;

    /// <summary>True if the set is empty.</summary>
    public bool IsEmpty => _count == 0;

    /// <summary>True if <paramref name="pfn"/> is in the set.</summary>
    public bool Contains(ulong pfn)
    {
        if (!_chunks.TryGetValue(pfn >> ChunkShift, out ulong[]? words))
        {
            return false;
        }

        int bit = (int)(pfn & (ChunkBits - 1));
        return (words[bit >> 6] & (1ul << (bit & 63))) != 0;
    }

    /// <summary>Adds <paramref name="pfn"/>; returns true if it was not already present.</summary>
    public bool Add(ulong pfn)
    {
        ulong key = pfn >> ChunkShift;
        if (!_chunks.TryGetValue(key, out ulong[]? words))
        {
            words = new ulong[WordsPerChunk];
            _chunks.Add(key, words);
        }

        int bit = (int)(pfn & (ChunkBits - 1));
        ulong mask = 1ul << (bit & 63);
        if ((words[bit >> 6] & mask) != 0)
        {
            return false;
        }

        words[bit >> 6] |= mask;
        _count++;
        return true;
    }

    /// <summary>Adds the range [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>).</summary>
    public void AddRange(ulong first, ulong count)
    {
        for (ulong i = 0; i < count; i++)
        {
            Add(first + i);
        }
    }

    /// <summary>Removes <paramref name="pfn"/>; returns true if it was present.</summary>
    public bool Remove(ulong pfn)
    {
        if (!_chunks.TryGetValue(pfn >> ChunkShift, out ulong[]? words))
        {
            return false;
        }

        int bit = (int)(pfn & (ChunkBits - 1));
        ulong mask = 1ul << (bit & 63);
        if ((words[bit >> 6] & mask) == 0)
        {
            return false;
        }

        words[bit >> 6] &= ~mask;
        _count--;
        return true;
    }

    /// <summary>Empties the set.</summary>
    public void Clear()
    {
        _chunks.Clear();
        _count = 0;
    }

    /// <summary>Makes this set a copy of <paramref name="other"/>.</summary>
    public void CopyFrom(PfnBitmap other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other))
        {
            return;
        }

        _chunks.Clear();
        foreach (KeyValuePair<ulong, ulong[]> kv in other._chunks)
        {
            _chunks.Add(kv.Key, (ulong[])kv.Value.Clone());
        }

        _count = other._count;
    }

    /// <summary>Adds every pfn of <paramref name="other"/> (set union).</summary>
    public void UnionWith(PfnBitmap other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (KeyValuePair<ulong, ulong[]> kv in other._chunks)
        {
            if (!_chunks.TryGetValue(kv.Key, out ulong[]? words))
            {
                words = new ulong[WordsPerChunk];
                _chunks.Add(kv.Key, words);
            }

            for (int i = 0; i < WordsPerChunk; i++)
            {
                ulong added = kv.Value[i] & ~words[i];
                _count += BitOperations.PopCount(added);
                words[i] |= kv.Value[i];
            }
        }
    }

    /// <summary>A copy of this set.</summary>
    public PfnBitmap Clone()
    {
        var copy = new PfnBitmap();
        copy.CopyFrom(this);
        return copy;
    }

    /// <summary>The pfns in ascending order.</summary>
    public IEnumerable<ulong> Enumerate()
    {
        var keys = new ulong[_chunks.Count];
        _chunks.Keys.CopyTo(keys, 0);
        Array.Sort(keys);
        foreach (ulong key in keys)
        {
            ulong[] words = _chunks[key];
            for (int w = 0; w < WordsPerChunk; w++)
            {
                ulong word = words[w];
                while (word != 0)
                {
                    int bit = BitOperations.TrailingZeroCount(word);
                    word &= word - 1;
                    yield return (key << ChunkShift) | (uint)((w << 6) + bit);
                }
            }
        }
    }

    /// <summary>True if both sets hold exactly the same pfns.</summary>
    public bool SetEquals(PfnBitmap other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (_count != other._count)
        {
            return false;
        }

        foreach (KeyValuePair<ulong, ulong[]> kv in _chunks)
        {
            bool anySet = kv.Value.AsSpan().ContainsAnyExcept(0ul);
            if (!other._chunks.TryGetValue(kv.Key, out ulong[]? theirs))
            {
                if (anySet)
                {
                    return false;
                }

                continue;
            }

            if (!kv.Value.AsSpan().SequenceEqual(theirs))
            {
                return false;
            }
        }

        return true;
    }
}
