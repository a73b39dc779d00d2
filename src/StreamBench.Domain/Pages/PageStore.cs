using System.Runtime.InteropServices;

namespace StreamBench.Domain.Pages;

/// <summary>
/// Page contents, allocated on first write. Pages live in slabs (no per-page objects for the GC to trace); a pfn maps
/// to a slot. A page never written, or written with zeros while unallocated, costs nothing and reads as zeros.
/// <para>
/// The first slab holds 256 pages (1 MiB), enough for a small domain; every later slab holds 2048 pages (8 MiB) in a
/// pinned array whose 2 MiB-aligned parts are advised as transparent huge pages (Linux <c>MADV_HUGEPAGE</c>), so that
/// the first write into fresh memory maps 2 MiB at once instead of taking a page fault per 4 KiB page: the restore
/// profile had a third of its time in those faults (docs/BENCHMARKS.md, "Where the time goes").
/// </para>
/// <para>
/// When the domain is discarded (<see cref="Clear"/>), up to <see cref="PooledSlabsPerSize"/> slabs of each size go,
/// zeroed, into a process-wide pool that the next page store takes them from: a process that restores many small
/// domains one after another (the restore-engine fuzz target: thousands a second) then neither allocates nor zeroes
/// a fresh 1 MiB slab per domain, nor pays the page faults of fresh memory. Only the used part of a slab is zeroed.
/// </para>
/// </summary>
internal sealed class PageStore
{
    private const int SlabShift = 11;
    private const int PagesPerSlab = 1 << SlabShift;
    private const int SlabBytes = PagesPerSlab * PageGeometry.Size;
    private const int FirstSlabPages = 256;
    private const int HugePageBytes = 2 << 20;

    private readonly List<ArraySegment<byte>> _slabs = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly SparsePfnArray<int> _slotPlusOne = new();
    private int _nextSlot;
    private long _materialised;

    private ulong _watchBelow;

    /// <summary>Pages currently holding an allocated (possibly non-zero) buffer.</summary>
    public long MaterialisedPages => _materialised;

    /// <summary>True once a page below the watched bound changed (contents or, through GuestMemory, its state).</summary>
    public bool WatchTripped { get; private set; }

    /// <summary>The lowest pfn that tripped the watch.</summary>
    public ulong WatchTrippedBy { get; private set; }

    /// <summary>Watches every pfn below <paramref name="below"/> (0: none): a change to one trips <see cref="WatchTripped"/>.</summary>
    public void Watch(ulong below) => _watchBelow = below;

    /// <summary>Notes a change to <paramref name="pfn"/>'s page for the watch.</summary>
    public void Touch(ulong pfn)
    {
        if (pfn < _watchBelow && (!WatchTripped || pfn < WatchTrippedBy))
        {
            WatchTripped = true;
            WatchTrippedBy = pfn;
        }
    }

    /// <summary>Bytes held in slabs.</summary>
    public long AllocatedBytes => _slabs.Sum(slab => (long)slab.Count);

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
        Touch(pfn);
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
        Touch(pfn);
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
        ReturnSlabsToPool();
        ReturnPreparedSlab();
        _slabs.Clear();
        _freeSlots.Clear();
        _slotPlusOne.Clear();
        _nextSlot = 0;
        _materialised = 0;
        _watchBelow = 0;
        WatchTripped = false;
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
            _slabs.Add(_slabs.Count == 0 ? RentSlab(s_firstSlabs) ?? new ArraySegment<byte>(new byte[FirstSlabPages * PageGeometry.Size]) : RentSlab(s_hugeSlabs) ?? NextHugeSlab());
        }

        if (slot == FirstSlabPages - 1)
        {
            _nextSlot = PagesPerSlab; // the first slab is short: the next slot is the second slab's first
        }

        return slot;
    }

    /// <summary>Slabs of each size the pool keeps (the rest are left to the GC).</summary>
    internal const int PooledSlabsPerSize = 2;

    private static readonly Stack<ArraySegment<byte>> s_firstSlabs = new();
    private static readonly Stack<ArraySegment<byte>> s_hugeSlabs = new();

    private static ArraySegment<byte>? RentSlab(Stack<ArraySegment<byte>> pool)
    {
        lock (pool)
        {
            return pool.Count > 0 ? pool.Pop() : (ArraySegment<byte>?)null;
        }
    }

    /// <summary>Zeroes the used part of slabs the pool has room for and hands them to it.</summary>
    private void ReturnSlabsToPool()
    {
        for (int i = 0; i < _slabs.Count; i++)
        {
            Stack<ArraySegment<byte>> pool = i == 0 ? s_firstSlabs : s_hugeSlabs;
            lock (pool)
            {
                if (pool.Count >= PooledSlabsPerSize)
                {
                    continue;
                }
            }

            // Slots below _nextSlot were handed out (freed ones are zero already; zeroing them again is harmless).
            long used = Math.Clamp(_nextSlot - ((long)i << SlabShift), 0, i == 0 ? FirstSlabPages : PagesPerSlab);
            _slabs[i].AsSpan(0, (int)used * PageGeometry.Size).Clear();
            lock (pool)
            {
                if (pool.Count < PooledSlabsPerSize)
                {
                    pool.Push(_slabs[i]);
                }
            }
        }
    }

    /// <summary>Huge slabs a store takes fresh from the OS before it starts preparing the next ones ahead.</summary>
    internal const int SlabsBeforePrefault = 2;

    /// <summary>Slabs being prepared ahead at once: zeroing is slower than filling, so two threads zero while the
    /// restoring thread waits for them (16 MiB more at most).</summary>
    internal const int SlabsPreparedAhead = 2;

    // Slabs being prepared on pool threads (allocated and faulted in), oldest first, for the next times this store
    // needs one.
    private readonly Queue<Task<ArraySegment<byte>>> _prepared = new();

    /// <summary>Slabs this store took ready from the preparing threads (PageStoreTests).</summary>
    internal int PreparedSlabsUsed { get; private set; }

    /// <summary>
    /// A fresh huge slab. Once a store has needed <see cref="SlabsBeforePrefault"/> of them it is filling a large
    /// domain, and each new slab starts the preparation of the next ones on pool threads: there the kernel zeroes their
    /// memory and maps it (the first touch of each page), which the restore profile showed as the largest cost of the
    /// restoring thread (clear_page and the page-fault path, 40 % of the samples of a 1 GiB restore through a pipe:
    /// docs/BENCHMARKS.md, "Where the time goes"). The restoring thread then writes into memory that is mapped
    /// already while the other core zeroes what comes next. A small domain never prepares a slab.
    /// </summary>
    private ArraySegment<byte> NextHugeSlab()
    {
        ArraySegment<byte> slab;
        if (_prepared.TryDequeue(out Task<ArraySegment<byte>>? ready))
        {
            slab = ready.GetAwaiter().GetResult();
            PreparedSlabsUsed++;
        }
        else
        {
            slab = NewHugeSlab();
        }

        if (_slabs.Count >= SlabsBeforePrefault)
        {
            while (_prepared.Count < SlabsPreparedAhead)
            {
                _prepared.Enqueue(Task.Run(PreparedHugeSlab));
            }
        }

        return slab;
    }

    private static ArraySegment<byte> PreparedHugeSlab()
    {
        ArraySegment<byte> slab = NewHugeSlab();
        // Linux 5.14+: MADV_POPULATE_WRITE maps the whole slab in one call (no fault per page). Elsewhere, or when it is
        // refused, one write per 4 KiB page faults each page (or its whole 2 MiB huge page) in. The bytes stay zero.
        if (OperatingSystem.IsLinux() && s_populateWrite)
        {
            if (Madvise(Address(slab), (nuint)slab.Count, MadvPopulateWrite) == 0)
            {
                return slab;
            }

            s_populateWrite = false;
        }

        for (int i = 0; i < slab.Count; i += PageGeometry.Size)
        {
            Volatile.Write(ref slab.Array![slab.Offset + i], 0);
        }

        return slab;
    }

    // Slabs prepared but not needed (the domain was complete) go to the pool when there is room, zero as they are.
    private void ReturnPreparedSlab()
    {
        while (_prepared.TryDequeue(out Task<ArraySegment<byte>>? pending))
        {
            if (!pending.IsCompletedSuccessfully)
            {
                continue; // still being faulted in (or failed): left to the GC
            }

            lock (s_hugeSlabs)
            {
                if (s_hugeSlabs.Count < PooledSlabsPerSize)
                {
                    s_hugeSlabs.Push(pending.Result);
                }
            }
        }
    }

    // 8 MiB that start on a 2 MiB boundary, inside a pinned array 2 MiB longer: four whole huge pages. (An 8 MiB array
    // of its own starts anywhere, so a quarter of it, its unaligned head and tail, stayed in 4 KiB pages: 1,024 faults
    // and clear_page calls per slab instead of two.) The 2 MiB around it are never touched, so never resident.
    private static ArraySegment<byte> NewHugeSlab()
    {
        byte[] array = GC.AllocateArray<byte>(SlabBytes + HugePageBytes, pinned: true);
        long start = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        int offset = (int)(((start + HugePageBytes - 1) & ~(long)(HugePageBytes - 1)) - start);
        var slab = new ArraySegment<byte>(array, offset, SlabBytes);
        if (OperatingSystem.IsLinux())
        {
            // Advice only: without transparent huge pages (or when the memory was touched already) nothing changes.
            _ = Madvise(Address(slab), (nuint)slab.Count, MadvHugePage);
        }

        return slab;
    }

    private static nint Address(ArraySegment<byte> slab) => Marshal.UnsafeAddrOfPinnedArrayElement(slab.Array!, slab.Offset);

    private const int MadvHugePage = 14;

    private const int MadvPopulateWrite = 23;

    private static volatile bool s_populateWrite = true;

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);

    private Span<byte> SlotSpan(int slot) =>
        _slabs[slot >> SlabShift].AsSpan((slot & (PagesPerSlab - 1)) * PageGeometry.Size, PageGeometry.Size);

    private ReadOnlyMemory<byte> SlotMemory(int slot) =>
        _slabs[slot >> SlabShift].AsMemory((slot & (PagesPerSlab - 1)) * PageGeometry.Size, PageGeometry.Size);
}
