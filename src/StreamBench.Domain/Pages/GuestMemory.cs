namespace StreamBench.Domain.Pages;

/// <summary>
/// Per-pfn state shared by every guest kind: type and pin flag (one byte per pfn, sparse),
/// contents (<see cref="PageStore"/>) and the dirty log hook. Population policy (mfn allocation,
/// holes) belongs to the owning domain.
/// </summary>
internal sealed class GuestMemory
{
    private const byte TypeMask = 0x07;
    private const byte PinnedBit = 0x08;

    private SparsePfnArray<byte> _meta = new();
    private PageStore _contents = new();
    private ulong? _maxPopulated;

    public DirtyLog DirtyLog { get; private set; } = new();

    public long PopulatedCount { get; private set; }

    public PageStore Contents => _contents;

    /// <summary>The highest populated pfn, or null if nothing is populated.</summary>
    public ulong? MaxPopulatedPfn => _maxPopulated;

    public PageInfo Info(ulong pfn)
    {
        byte meta = _meta.Get(pfn);
        return new PageInfo((PageType)(meta & TypeMask), (meta & PinnedBit) != 0);
    }

    public bool IsPopulated(ulong pfn) => (_meta.Get(pfn) & TypeMask) != 0;

    public void MarkPopulated(ulong pfn, PageType type)
    {
        _contents.Touch(pfn);
        if (type == PageType.Unpopulated)
        {
            throw new ArgumentException("use MarkUnpopulated", nameof(type));
        }

        if (!IsPopulated(pfn))
        {
            PopulatedCount++;
            if (_maxPopulated is null || pfn > _maxPopulated.Value)
            {
                _maxPopulated = pfn;
            }
        }

        _meta.Set(pfn, (byte)type);
        DirtyLog.Mark(pfn);
    }

    public void MarkUnpopulated(ulong pfn)
    {
        _contents.Touch(pfn);
        if (!IsPopulated(pfn))
        {
            return;
        }

        _meta.Set(pfn, 0);
        _contents.Release(pfn);
        PopulatedCount--;
        if (pfn == _maxPopulated)
        {
            _maxPopulated = FindMaxPopulated();
        }
    }

    public void SetInfo(ulong pfn, PageInfo info)
    {
        _contents.Touch(pfn);
        byte meta = (byte)((byte)info.Type | (info.Pinned ? PinnedBit : 0));
        _meta.Set(pfn, meta);
    }

    /// <summary>Populated pfns in ascending order (a snapshot of the leaf list, live leaves).</summary>
    public IEnumerable<ulong> PopulatedPfns()
    {
        foreach (ulong leafBase in _meta.SortedLeafBases())
        {
            // Re-read through the array each time: callers may change types while iterating.
            for (int i = NextPopulated(leafBase, 0); i >= 0; i = NextPopulated(leafBase, i + 1))
            {
                yield return leafBase + (ulong)i;
            }
        }
    }

    // The first populated index at or after `from` in the leaf, or -1. Runs of unpopulated entries (zero bytes) are
    // skipped a vector at a time: the small domains of the restore-engine fuzz target spend most of a leaf's 4096
    // entries there (one leaf per special-page range).
    private int NextPopulated(ulong leafBase, int from)
    {
        ReadOnlySpan<byte> leaf = _meta.Leaf(leafBase);
        for (int i = from; i < leaf.Length; i++)
        {
            int next = leaf[i..].IndexOfAnyExcept((byte)0);
            if (next < 0)
            {
                return -1;
            }

            i += next;
            if ((leaf[i] & TypeMask) != 0)
            {
                return i;
            }
        }

        return -1;
    }

    public void Clear()
    {
        _meta.Clear();
        _contents.Clear();
        PopulatedCount = 0;
        _maxPopulated = null;
        DirtyLog.Disable();
    }

    public GuestMemory Clone()
    {
        var copy = new GuestMemory
        {
            _meta = _meta.Clone(),
            PopulatedCount = PopulatedCount,
            _maxPopulated = _maxPopulated,
            DirtyLog = DirtyLog.CloneLog(),
        };
        copy._contents = _contents.Clone(PopulatedPfns());
        return copy;
    }

    private ulong? FindMaxPopulated()
    {
        ulong[] bases = _meta.SortedLeafBases();
        for (int b = bases.Length - 1; b >= 0; b--)
        {
            ReadOnlySpan<byte> leaf = _meta.Leaf(bases[b]);
            for (int i = leaf.Length - 1; i >= 0; i--)
            {
                if ((leaf[i] & TypeMask) != 0)
                {
                    return bases[b] + (ulong)i;
                }
            }
        }

        return null;
    }
}
