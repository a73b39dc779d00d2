namespace StreamBench.Domain.Pages;

/// <summary>
/// A per-pfn array that only spends memory where it holds non-default values: fixed-size leaves
/// keyed by pfn >> <see cref="LeafShift"/>. Dense for real guests (a 2 GiB guest is 128 leaves),
/// bounded for fuzzed streams that name scattered pfns.
/// </summary>
/// <typeparam name="T">The element type; <c>default</c> means "nothing here".</typeparam>
internal sealed class SparsePfnArray<T> where T : unmanaged, IEquatable<T>
{
    public const int LeafShift = 12;
    public const int LeafSize = 1 << LeafShift;
    private const ulong LeafMask = LeafSize - 1;

    private readonly Dictionary<ulong, T[]> _leaves = [];
    private ulong _lastKey = ulong.MaxValue;
    private T[]? _lastLeaf;

    public int LeafCount => _leaves.Count;

    public T Get(ulong pfn)
    {
        T[]? leaf = FindLeaf(pfn >> LeafShift);
        return leaf is null ? default : leaf[(int)(pfn & LeafMask)];
    }

    public void Set(ulong pfn, T value)
    {
        ulong key = pfn >> LeafShift;
        T[]? leaf = FindLeaf(key);
        if (leaf is null)
        {
            if (value.Equals(default))
            {
                return;
            }

            leaf = new T[LeafSize];
            _leaves.Add(key, leaf);
            _lastKey = key;
            _lastLeaf = leaf;
        }

        leaf[(int)(pfn & LeafMask)] = value;
    }

    /// <summary>Leaf base pfns in ascending order.</summary>
    public ulong[] SortedLeafBases()
    {
        var keys = new ulong[_leaves.Count];
        _leaves.Keys.CopyTo(keys, 0);
        Array.Sort(keys);
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] <<= LeafShift;
        }

        return keys;
    }

    /// <summary>The leaf covering <paramref name="leafBase"/>, or null.</summary>
    public ReadOnlySpan<T> Leaf(ulong leafBase)
    {
        T[]? leaf = FindLeaf(leafBase >> LeafShift);
        return leaf is null ? [] : leaf;
    }

    public void Clear()
    {
        _leaves.Clear();
        _lastKey = ulong.MaxValue;
        _lastLeaf = null;
    }

    public SparsePfnArray<T> Clone()
    {
        var copy = new SparsePfnArray<T>();
        foreach (KeyValuePair<ulong, T[]> kv in _leaves)
        {
            copy._leaves.Add(kv.Key, (T[])kv.Value.Clone());
        }

        return copy;
    }

    private T[]? FindLeaf(ulong key)
    {
        if (key == _lastKey)
        {
            return _lastLeaf;
        }

        if (_leaves.TryGetValue(key, out T[]? leaf))
        {
            _lastKey = key;
            _lastLeaf = leaf;
        }

        return leaf;
    }
}
