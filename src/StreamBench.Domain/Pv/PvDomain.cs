using StreamBench.Domain.Pages;
using StreamBench.X86;

namespace StreamBench.Domain.Pv;

/// <summary>
/// A paravirtualised x86 guest. The guest sees machine frames: its p2m maps pfn → mfn over a
/// <see cref="MachineFrameAllocator"/>, its page tables, GDT frames and cr3 hold mfns, and its
/// start_info names the xenstore/console frames. Everything here follows Xen's semantics
/// (xg_sr_save_x86_pv.c / xg_sr_restore_x86_pv.c) so an engine can be written on top of it:
/// normalise on save (mfn → pfn), localise on restore (pfn → mfn), failing precisely where Xen fails.
/// </summary>
public sealed partial class PvDomain : GuestDomain
{
    /// <summary>Frames Xen maps into every pinned 64-bit L4 (slots 256..271). Below the host range: never guest frames.</summary>
    public const ulong HypervisorL4FrameBase = 0x100;

    /// <summary>The compat m2p's first frame (compat_m2p_mfn0), mapped into a 32-bit guest's top L2 (slots 428..511).</summary>
    public const ulong CompatM2pFrameBase = 0x200;

    /// <summary>First and last L4 slots that hold Xen's mappings in a 64-bit guest (HYPERVISOR_VIRT_START..END).</summary>
    public const int XenL4FirstSlot = 256, XenL4LastSlot = 271;

    /// <summary>First L3 slot a 32-bit PAE guest may not use (slots 4..511 belong to Xen).</summary>
    public const int XenPaeL3FirstSlot = 4;

    /// <summary>First L2 slot of the top (L3[3]) table that holds Xen's compat mappings (0xF5800000 >> 21 &amp; 511).</summary>
    public const int XenPaeL2FirstSlot = 428;

    private readonly SparsePfnArray<ulong> _p2m = new();
    private readonly Dictionary<ulong, ulong> _m2p = [];
    private readonly List<ulong> _p2mFramePfns = [];
    private readonly byte[] _sharedInfo = new byte[PageGeometry.Size];
    private PvVcpuState[] _vcpus;
    private ulong _maxPfn;

    /// <summary>
    /// Creates an empty PV domain (nothing populated, max_pfn 0), as a restore starts. Builders
    /// use <see cref="Builders.DomainBuilder"/> instead.
    /// </summary>
    public PvDomain(PvGeometry geometry, int maxVcpus, MachineFrameAllocator frames, ulong memoryLimitPages)
        : base(geometry.GuestType, maxVcpus, memoryLimitPages)
    {
        ArgumentNullException.ThrowIfNull(frames);
        Geometry = geometry;
        Frames = frames;
        SharedInfoMfn = frames.Allocate();
        _vcpus = new PvVcpuState[maxVcpus];
        for (int i = 0; i < maxVcpus; i++)
        {
            _vcpus[i] = new PvVcpuState(i, geometry.GuestWidth);
        }

        _p2mFramePfns.Add(PageGeometry.InvalidFrame);
    }

    /// <summary>Width and paging depth.</summary>
    public PvGeometry Geometry { get; private set; }

    /// <summary>The host frames this domain's memory comes from.</summary>
    public MachineFrameAllocator Frames { get; }

    /// <summary>The machine frame of shared_info (a Xen page, not in the p2m).</summary>
    public ulong SharedInfoMfn { get; }

    /// <summary>The highest pfn covered by the p2m (p2m size − 1). Pfns above it cannot be populated.</summary>
    public override ulong MaxPfn => _maxPfn;

    /// <summary>Entries in the p2m: <see cref="MaxPfn"/> + 1.</summary>
    public ulong P2mSize => _maxPfn + 1;

    /// <summary>The host's highest mfn (Xen's max_mfn).</summary>
    public ulong MaxMfn => Frames.MaxMfn;

    /// <summary>
    /// True once the start_info page's xenstore/console fields hold machine frames (after
    /// <see cref="LocaliseStartInfo"/>); false while they hold pfns, as a suspended guest leaves them.
    /// </summary>
    public bool StartInfoHoldsMachineFrames { get; private set; }

    /// <summary>shared_info (4096 bytes, width-specific layout <see cref="SharedInfoLayout"/>).</summary>
    public Span<byte> SharedInfo => _sharedInfo;

    /// <summary>The shared_info layout for this guest's width.</summary>
    public SharedInfoLayout SharedInfoLayout => SharedInfoLayout.ForWidth(Geometry.GuestWidth);

    /// <summary>The start_info layout for this guest's width.</summary>
    public StartInfoLayout StartInfoLayout => StartInfoLayout.ForWidth(Geometry.GuestWidth);

    /// <summary>shared_info.arch.max_pfn (the p2m size the guest advertises).</summary>
    public ulong SharedInfoMaxPfnField
    {
        get => PvWords.Read(_sharedInfo, SharedInfoLayout.ArchMaxPfn, Geometry.GuestWidth);
        set => PvWords.Write(_sharedInfo, SharedInfoLayout.ArchMaxPfn, Geometry.GuestWidth, value);
    }

    /// <summary>
    /// Switches a still-empty domain to another width (XEN_DOMCTL_set_address_size, as the
    /// restore does when X86_PV_INFO names a 32-bit guest).
    /// </summary>
    public void SetGeometry(PvGeometry geometry)
    {
        ThrowIfDiscarded();
        if (geometry == Geometry)
        {
            return;
        }

        if (PopulatedCount != 0 || _vcpus.Any(v => v.Basic is not null))
        {
            throw new DomainException($"cannot change the guest width of a non-empty domain (now {Geometry})");
        }

        Geometry = geometry;
        Type = geometry.GuestType;
        foreach (PvVcpuState v in _vcpus)
        {
            v.Reset(geometry.GuestWidth);
        }

        _sharedInfo.AsSpan().Clear();
    }

    // ------------------------------------------------------------------ p2m / m2p

    /// <summary>The mfn behind <paramref name="pfn"/>, or <see cref="PageGeometry.InvalidFrame"/>.</summary>
    public ulong PfnToMfn(ulong pfn)
    {
        ulong mfn = pfn <= _maxPfn ? _p2m.Get(pfn) : 0;
        return mfn == 0 ? PageGeometry.InvalidFrame : mfn;
    }

    /// <summary>The pfn an mfn backs, if it belongs to this domain.</summary>
    public bool TryMfnToPfn(ulong mfn, out ulong pfn) => _m2p.TryGetValue(mfn, out pfn);

    /// <summary>
    /// Xen's mfn_in_pseudophysmap: the mfn is a host frame, the m2p maps it to a pfn within
    /// max_pfn, and the p2m maps that pfn back to it.
    /// </summary>
    public bool MfnInPseudophysmap(ulong mfn) =>
        mfn <= MaxMfn && _m2p.TryGetValue(mfn, out ulong pfn) && pfn <= _maxPfn && _p2m.Get(pfn) == mfn;

    /// <inheritdoc/>
    public override bool IsPfnValid(ulong pfn) => pfn <= _maxPfn;

    /// <summary>Grows the p2m to cover [0, <paramref name="newMaxPfn"/>] (expand_p2m). New pfns are unpopulated.</summary>
    public void ExpandP2m(ulong newMaxPfn)
    {
        ThrowIfDiscarded();
        if (newMaxPfn >= PageGeometry.PfnLimit)
        {
            throw new DomainException($"max_pfn 0x{newMaxPfn:x} is beyond the guest-physical limit");
        }

        if (newMaxPfn <= _maxPfn)
        {
            return;
        }

        // The guest keeps its p2m in its own pages, one per FramesPerPage pfns: a max_pfn whose p2m needs more frames
        // than the domain may have pages is impossible. Checked before growing, so a stream's 16-byte X86_PV_P2M_FRAMES
        // with end_pfn 0xffffffff cannot make the frame list grow to millions of entries (found by fuzzing).
        ulong frames = (newMaxPfn / (ulong)Geometry.FramesPerPage) + 1;
        if (frames > MemoryLimitPages)
        {
            throw new DomainException(
                $"max_pfn 0x{newMaxPfn:x} needs {frames} p2m frames, more than the domain's limit of {MemoryLimitPages} pages");
        }

        _maxPfn = newMaxPfn;
        while ((ulong)_p2mFramePfns.Count < frames)
        {
            _p2mFramePfns.Add(PageGeometry.InvalidFrame);
        }
    }

    /// <summary>
    /// The pfns of the pages holding the guest's own p2m, one per <see cref="PvGeometry.FramesPerPage"/>
    /// entries: what X86_PV_P2M_FRAMES carries. <see cref="PageGeometry.InvalidFrame"/> where unknown.
    /// </summary>
    public IReadOnlyList<ulong> P2mFramePfns => _p2mFramePfns;

    /// <summary>Sets p2m frame <paramref name="index"/> (restore: from X86_PV_P2M_FRAMES).</summary>
    public void SetP2mFramePfn(int index, ulong pfn)
    {
        ThrowIfDiscarded();
        if ((uint)index >= (uint)_p2mFramePfns.Count)
        {
            throw new DomainException(
                $"p2m frame index {index} out of range (max_pfn 0x{_maxPfn:x} needs {_p2mFramePfns.Count} frames)");
        }

        _p2mFramePfns[index] = pfn;
    }

    /// <summary>
    /// Copies the p2m into the guest's p2m frames (update_guest_p2m): each frame pfn must be in
    /// range, an ordinary page and populated. Entries beyond max_pfn in the last frame are left alone.
    /// </summary>
    public void WriteGuestP2m()
    {
        ThrowIfDiscarded();
        int width = Geometry.GuestWidth;
        int fpp = Geometry.FramesPerPage;
        for (int i = 0; i < _p2mFramePfns.Count; i++)
        {
            ulong framePfn = _p2mFramePfns[i];
            if (framePfn > _maxPfn)
            {
                throw new DomainException($"pfn (0x{framePfn:x}) for p2m_frame_list[{i}] out of range");
            }

            PageInfo info = GetPageInfo(framePfn);
            if (info.Type != PageType.Normal)
            {
                throw new DomainException($"pfn (0x{framePfn:x}) for p2m_frame_list[{i}] has bad type {info}");
            }
        }

        for (int i = 0; i < _p2mFramePfns.Count; i++)
        {
            Span<byte> page = _memory.Contents.GetWritable(_p2mFramePfns[i]);
            _memory.DirtyLog.Mark(_p2mFramePfns[i]);
            ulong first = (ulong)i * (ulong)fpp;
            for (int j = 0; j < fpp && first + (ulong)j <= _maxPfn; j++)
            {
                PvWords.Write(page, j * width, width, PfnToMfn(first + (ulong)j));
            }
        }
    }

    /// <summary>The entry for <paramref name="pfn"/> in the guest's own p2m pages (INVALID if the frame is unknown).</summary>
    public ulong ReadGuestP2mEntry(ulong pfn)
    {
        int fpp = Geometry.FramesPerPage;
        ulong index = pfn / (ulong)fpp;
        if (pfn > _maxPfn || index >= (ulong)_p2mFramePfns.Count)
        {
            return PageGeometry.InvalidFrame;
        }

        ulong framePfn = _p2mFramePfns[(int)index];
        if (!IsPopulated(framePfn))
        {
            return PageGeometry.InvalidFrame;
        }

        int width = Geometry.GuestWidth;
        return PvWords.ReadFrame(_memory.Contents.Read(framePfn), (int)(pfn % (ulong)fpp) * width, width);
    }

    /// <summary>True if <paramref name="pfn"/> is one of the guest's p2m frames.</summary>
    public bool IsP2mFrame(ulong pfn) => _p2mFramePfns.Contains(pfn);

    // ------------------------------------------------------------------ page types

    /// <summary>
    /// Sets a populated pfn's type (the restore's set_page_type from PAGE_DATA). Page-table types
    /// must exist for the geometry. Clears the pin flag; use <see cref="Pin"/> afterwards.
    /// </summary>
    public void SetPageType(ulong pfn, PageType type)
    {
        RequirePopulated(pfn);
        switch (type)
        {
            case PageType.Normal:
            case PageType.L1Table:
            case PageType.L2Table:
            case PageType.L3Table:
                break;
            case PageType.L4Table when Geometry.PageTableLevels == 4:
                break;
            case PageType.L4Table:
                throw new DomainException($"pfn 0x{pfn:x}: L4 table in a {Geometry.PageTableLevels}-level guest");
            case PageType.Broken:
                MarkBroken(pfn);
                return;
            default:
                throw new DomainException($"pfn 0x{pfn:x}: cannot set type {type} on a populated page");
        }

        _memory.SetInfo(pfn, new PageInfo(type, false));
    }

    /// <summary>
    /// Pins a page table (MMUEXT_PIN_Ln_TABLE). Like Xen, pinning installs the hypervisor's own
    /// mappings: slots 256..271 of a 64-bit L4, and slots 428..511 of the L2 under a 32-bit L3's slot 3.
    /// </summary>
    public void Pin(ulong pfn)
    {
        RequirePopulated(pfn);
        PageInfo info = GetPageInfo(pfn);
        if (!info.IsPageTable)
        {
            throw new DomainException($"cannot pin pfn 0x{pfn:x}: type {info.Type} is not a page table");
        }

        if (info.Type == PageType.L4Table && Geometry.Is64Bit)
        {
            Span<byte> table = _memory.Contents.GetWritable(pfn);
            for (int slot = XenL4FirstSlot; slot <= XenL4LastSlot; slot++)
            {
                WriteEntry(table, slot, PteFormat.Make(
                    HypervisorL4FrameBase + (ulong)(slot - XenL4FirstSlot),
                    PteFormat.Present | PteFormat.Writable | PteFormat.Accessed | PteFormat.Dirty));
            }
        }
        else if (info.Type == PageType.L3Table && !Geometry.Is64Bit)
        {
            ulong l3e = ReadEntry(_memory.Contents.Read(pfn), 3);
            if (PteFormat.IsPresent(l3e) && TryMfnToPfn(PteFormat.Frame(l3e), out ulong l2pfn) && IsPopulated(l2pfn))
            {
                Span<byte> l2 = _memory.Contents.GetWritable(l2pfn);
                for (int slot = XenPaeL2FirstSlot; slot < PteFormat.EntriesPerTable; slot++)
                {
                    WriteEntry(l2, slot, PteFormat.Make(
                        CompatM2pFrameBase + (ulong)(slot - XenPaeL2FirstSlot),
                        PteFormat.Present | PteFormat.Accessed));
                }
            }
        }

        _memory.SetInfo(pfn, new PageInfo(info.Type, true));
    }

    /// <summary>Unpins a page table.</summary>
    public void Unpin(ulong pfn)
    {
        RequirePopulated(pfn);
        PageInfo info = GetPageInfo(pfn);
        _memory.SetInfo(pfn, info with { Pinned = false });
    }

    // ------------------------------------------------------------------ structural pages

    private protected override void AddStructuralPfns(PfnBitmap set)
    {
        foreach (ulong pfn in _p2mFramePfns)
        {
            if (pfn != PageGeometry.InvalidFrame)
            {
                set.Add(pfn);
            }
        }

        foreach (ulong? pfn in (ulong?[])[StartInfoPfn, StorePfn, ConsolePfn])
        {
            if (pfn is ulong p)
            {
                set.Add(p);
            }
        }

        foreach (PvVcpuState v in _vcpus)
        {
            if (v.Basic is null)
            {
                continue;
            }

            PvVcpuContext ctx = v.Context;
            int frames = Math.Min(ctx.GdtFrameCount, VcpuGuestContextLayout.GdtFrameSlots);
            for (int i = 0; i < frames; i++)
            {
                if (TryMfnToPfn(ctx.GetGdtFrame(i), out ulong gdtPfn))
                {
                    set.Add(gdtPfn);
                }
            }
        }
    }

    // ------------------------------------------------------------------ population hooks

    private protected override bool CanPopulateCore(ulong pfn, out string reason)
    {
        if (pfn > _maxPfn)
        {
            reason = $"pfn 0x{pfn:x} is beyond max_pfn 0x{_maxPfn:x}";
            return false;
        }

        reason = string.Empty;
        return true;
    }

    private protected override void OnPopulate(ulong pfn)
    {
        ulong mfn = Frames.Allocate();
        if (mfn > Geometry.MaxRepresentableFrame)
        {
            Frames.Free(mfn);
            throw new DomainException($"mfn 0x{mfn:x} does not fit a {Geometry.GuestWidth * 8}-bit guest's p2m");
        }

        _p2m.Set(pfn, mfn);
        _m2p[mfn] = pfn;
    }

    private protected override void OnDepopulate(ulong pfn)
    {
        ulong mfn = _p2m.Get(pfn);
        if (mfn != 0)
        {
            _p2m.Set(pfn, 0);
            _m2p.Remove(mfn);
            Frames.Free(mfn);
        }
    }

    // ------------------------------------------------------------------ clone / dispose

    /// <summary>
    /// A deep copy with the same pfn→mfn map. The copy gets an independent clone of the frame
    /// allocator (it is a snapshot, not a second tenant of the same host).
    /// </summary>
    public override GuestDomain Clone()
    {
        ThrowIfDiscarded();
        var copy = new PvDomain(Geometry, MaxVcpus, Frames.Clone(), MemoryLimitPages, SharedInfoMfn);
        CopyCommonStateTo(copy);
        foreach (ulong pfn in PopulatedPfns())
        {
            ulong mfn = _p2m.Get(pfn);
            copy._p2m.Set(pfn, mfn);
            copy._m2p[mfn] = pfn;
        }

        copy._maxPfn = _maxPfn;
        copy._p2mFramePfns.Clear();
        copy._p2mFramePfns.AddRange(_p2mFramePfns);
        _sharedInfo.CopyTo(copy._sharedInfo, 0);
        copy.StartInfoHoldsMachineFrames = StartInfoHoldsMachineFrames;
        copy._vcpus = _vcpus.Select(v => v.Clone()).ToArray();
        return copy;
    }

    private PvDomain(PvGeometry geometry, int maxVcpus, MachineFrameAllocator frames, ulong memoryLimitPages, ulong sharedInfoMfn)
        : base(geometry.GuestType, maxVcpus, memoryLimitPages)
    {
        Geometry = geometry;
        Frames = frames;
        SharedInfoMfn = sharedInfoMfn;
        _vcpus = [];
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (Lifecycle != DomainLifecycle.Discarded && disposing)
        {
            // The frames go back in pfn order, as depopulating each page would return them (the allocator reuses
            // freed frames last-in first-out, so the order is what a later domain on the same host gets); the maps
            // are cleared at once instead of entry by entry.
            foreach (ulong pfn in PopulatedPfns())
            {
                ulong mfn = _p2m.Get(pfn);
                if (mfn != 0)
                {
                    Frames.Free(mfn);
                }
            }

            _m2p.Clear();
            _p2m.Clear();
            Frames.Free(SharedInfoMfn);
        }

        base.Dispose(disposing);
    }

    internal static ulong ReadEntry(ReadOnlySpan<byte> table, int index) => PteFormat.ReadEntry(table, index);

    internal static void WriteEntry(Span<byte> table, int index, ulong entry) => PteFormat.WriteEntry(table, index, entry);
}
