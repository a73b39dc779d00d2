namespace StreamBench.Domain.Pages;

/// <summary>
/// Page contents, allocated on first write. Pages live in 1 MiB slabs (256 pages each, no
/// per-page objects for the GC to trace); a pfn maps to a slot. A page never written, or
/// written with zeros while unallocated, costs nothing and reads as zeros.
/// </summary>
internal sealed class PageStore
{
    private const int SlabShift = 8;
    private const int PagesPerSlab = 1 << SlabShift;
    private const int SlabBytes = PagesPerSlab * PageGeometry.Size;

    private readonly List<byte[]> _slabs = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly SparsePfnArray<int> _slotPlusOne = new();
    private int _nextSlot;
    private long _materialised;

    /// <summary>Pages currently holding an allocated (possibly non-zero) buffer.</summary>
    public long MaterialisedPages => _materialised;

    /// <summary>Bytes held in slabs.</summary>
    public long AllocatedBytes => (long)_slabs.Count * SlabBytes;

    public bool IsMaterialised(ulong pfn) => _slotPlusOne.Get(pfn) != 0;

    public ReadOnlySpan<byte> Read(ulong pfn)
    {
        int slot = _slotPlusOne.Get(pfn) - 1;
        return slot < 0 ? PageGeometry.ZeroPage : SlotSpan(slot);
    }

    public ReadOnlyMemory<byte> ReadMemory(ulong pfn)
    {
        int slot = _slotPlusOne.Get(pfn) - 1;
        return slot < 0 ? PageGeometry.ZeroPageArray : SlotMemory(slot);
    }

    /// <summary>The page's buffer, allocating it (zeroed) on first use.</summary>
    public Span<byte> GetWritable(ulong pfn)
    {
        int slot = _slotPlusOne.Get(pfn) - 1;
        if (slot < 0)
        {
            slot = AllocateSlot();
            _slotPlusOne.Set(pfn, slot + 1);
            _materialised++;
        }

        return SlotSpan(slot);
    }

    /// <summary>Replaces the page's contents. All-zero data releases the buffer instead.</summary>
    public void Write(ulong pfn, ReadOnlySpan<byte> data)
    {
        if (data.Length != PageGeometry.Size)
        {
            throw new ArgumentException($"page data must be {PageGeometry.Size} bytes, got {data.Length}", nameof(data));
        }

        if (!data.ContainsAnyExcept((byte)0))
        {
            Release(pfn);
            return;
        }

        data.CopyTo(GetWritable(pfn));
    }

    /// <summary>Drops the page's buffer: it reads as zeros again.</summary>
    public void Release(ulong pfn)
    {
        int slot = _slotPlusOne.Get(pfn) - 1;
        if (slot < 0)
        {
            return;
        }

        SlotSpan(slot).Clear();
        _freeSlots.Push(slot);
        _slotPlusOne.Set(pfn, 0);
        _materialised--;
    }

    public void Clear()
    {
        _slabs.Clear();
        _freeSlots.Clear();
        _slotPlusOne.Clear();
        _nextSlot = 0;
        _materialised = 0;
    }

    public PageStore Clone(IEnumerable<ulong> pfns)
    {
        var copy = new PageStore();
        foreach (ulong pfn in pfns)
        {
            if (IsMaterialised(pfn))
            {
                Read(pfn).CopyTo(copy.GetWritable(pfn));
            }
        }

        return copy;
    }

    private int AllocateSlot()
    {
        if (_freeSlots.Count > 0)
        {
            return _freeSlots.Pop();
        }

        int slot = _nextSlot++;
        if ((slot >> SlabShift) >= _slabs.Count)
        {
            _slabs.Add(new byte[SlabBytes]);
        }

        return slot;
    }

    private Span<byte> SlotSpan(int slot) =>
        _slabs[slot >> SlabShift].AsSpan((slot & (PagesPerSlab - 1)) * PageGeometry.Size, PageGeometry.Size);

    private ReadOnlyMemory<byte> SlotMemory(int slot) =>
        _slabs[slot >> SlabShift].AsMemory((slot & (PagesPerSlab - 1)) * PageGeometry.Size, PageGeometry.Size);
}
