using StreamBench.Domain.Pages;
using StreamBench.X86;

namespace StreamBench.Domain.Pv;

public sealed partial class PvDomain
{
    /// <summary>Frame written in place of an unknown mfn when normalising leniently (for digests).</summary>
    internal const ulong UnknownFrameSentinel = PteFormat.MaxFrame;

    /// <summary>
    /// Normalises the page table at <paramref name="pfn"/> into <paramref name="destination"/>
    /// (4096 bytes), as Xen's save does: Xen's own slots are cleared and every present entry's
    /// mfn becomes a pfn. Throws <see cref="PageTableException"/> on a superpage or an mfn outside
    /// the pseudophysmap.
    /// </summary>
    public void NormalisePageTable(ulong pfn, Span<byte> destination)
    {
        if (!TryNormalisePageTable(pfn, destination, out PageTableError? error))
        {
            throw new PageTableException(error!);
        }
    }

    /// <summary>As <see cref="NormalisePageTable(ulong, Span{byte})"/>, reporting failure instead of throwing.</summary>
    public bool TryNormalisePageTable(ulong pfn, Span<byte> destination, out PageTableError? error)
    {
        RequirePopulated(pfn);
        PageInfo info = GetPageInfo(pfn);
        return TryNormalisePageTable(info.Type, _memory.Contents.Read(pfn), destination, out error);
    }

    /// <summary>
    /// Normalises <paramref name="source"/>, a table of type <paramref name="level"/>, into
    /// <paramref name="destination"/> (may be the same buffer). Xen's normalise_pagetable.
    /// </summary>
    public bool TryNormalisePageTable(PageType level, ReadOnlySpan<byte> source, Span<byte> destination, out PageTableError? error) =>
        NormaliseCore(level, source, destination, lenient: false, out error);

    /// <summary>
    /// Localises a normalised table in place (x86_pv_localise_page): every present entry's pfn
    /// becomes the mfn behind it. Referenced pfns that are not populated yet are populated first
    /// when <paramref name="populateMissing"/> is true (as Xen's restore does). Throws
    /// <see cref="PageTableException"/> on a pfn beyond max_pfn, a pfn that cannot be populated,
    /// or an mfn not in the pseudophysmap. The page is unchanged when it throws.
    /// </summary>
    public void LocalisePageTable(PageType level, Span<byte> page, bool populateMissing = true)
    {
        if (!TryLocalisePageTable(level, page, populateMissing, out PageTableError? error))
        {
            throw new PageTableException(error!);
        }
    }

    /// <summary>Localises the page table stored at <paramref name="pfn"/>, in place, using the pfn's type.</summary>
    public void LocalisePageTable(ulong pfn, bool populateMissing = true)
    {
        RequirePopulated(pfn);
        PageInfo info = GetPageInfo(pfn);
        Span<byte> scratch = stackalloc byte[PageGeometry.Size];
        _memory.Contents.Read(pfn).CopyTo(scratch);
        LocalisePageTable(info.Type, scratch, populateMissing);
        _memory.Contents.Write(pfn, scratch);
    }

    /// <summary>As <see cref="LocalisePageTable(PageType, Span{byte}, bool)"/>, reporting failure instead of throwing.</summary>
    public bool TryLocalisePageTable(PageType level, Span<byte> page, bool populateMissing, out PageTableError? error)
    {
        ThrowIfDiscarded();
        if (page.Length != PageGeometry.Size)
        {
            throw new ArgumentException($"a page table is {PageGeometry.Size} bytes, got {page.Length}", nameof(page));
        }

        error = null;
        if (!level.IsPageTable())
        {
            return true; // Only page tables need localisation.
        }

        int n = level.TableLevel();
        if (n > Geometry.PageTableLevels)
        {
            error = new PageTableError(PageTableErrorKind.LevelNotValidForGeometry, level, -1, 0,
                $"L{n} table in a {Geometry.PageTableLevels}-level guest");
            return false;
        }

        // Pass 1: check every referenced pfn and collect the ones to populate.
        List<ulong>? toPopulate = null;
        for (int i = 0; i < PteFormat.EntriesPerTable; i++)
        {
            ulong pte = ReadEntry(page, i);
            if (!PteFormat.IsPresent(pte))
            {
                continue;
            }

            ulong pfn = PteFormat.Frame(pte);
            if (pfn > _maxPfn)
            {
                error = new PageTableError(PageTableErrorKind.PfnBeyondMaxPfn, level, i, pte,
                    $"L{n}[{i}] = 0x{pte:x16} references pfn 0x{pfn:x} beyond max_pfn 0x{_maxPfn:x}");
                return false;
            }

            if (!IsPopulated(pfn))
            {
                if (!populateMissing)
                {
                    error = new PageTableError(PageTableErrorKind.PfnNotPopulated, level, i, pte,
                        $"L{n}[{i}] = 0x{pte:x16} references unpopulated pfn 0x{pfn:x}");
                    return false;
                }

                if (!CanPopulate(pfn, out string reason))
                {
                    error = new PageTableError(PageTableErrorKind.PfnNotPopulated, level, i, pte,
                        $"L{n}[{i}] = 0x{pte:x16}: cannot populate pfn 0x{pfn:x}: {reason}");
                    return false;
                }

                (toPopulate ??= []).Add(pfn);
            }
        }

        if (toPopulate is not null)
        {
            foreach (ulong pfn in toPopulate)
            {
                Populate(pfn);
            }
        }

        // Pass 2: check and rewrite. Validate everything before touching the page.
        Span<ulong> mfns = stackalloc ulong[PteFormat.EntriesPerTable];
        for (int i = 0; i < PteFormat.EntriesPerTable; i++)
        {
            ulong pte = ReadEntry(page, i);
            if (!PteFormat.IsPresent(pte))
            {
                continue;
            }

            ulong mfn = PfnToMfn(PteFormat.Frame(pte));
            if (!MfnInPseudophysmap(mfn))
            {
                error = new PageTableError(PageTableErrorKind.FrameNotInPseudophysmap, level, i, pte,
                    $"Bad mfn for L{n}[{i}] - pte 0x{pte:x16} (mfn 0x{mfn:x})");
                return false;
            }

            mfns[i] = mfn;
        }

        for (int i = 0; i < PteFormat.EntriesPerTable; i++)
        {
            ulong pte = ReadEntry(page, i);
            if (PteFormat.IsPresent(pte))
            {
                WriteEntry(page, i, PteFormat.WithFrame(pte, mfns[i]));
            }
        }

        return true;
    }

    /// <summary>The Xen-owned slot range [first, last] of a table (first = -1 when none), as normalise_pagetable computes it.</summary>
    internal (int First, int Last) XenSlots(PageType level, ReadOnlySpan<byte> source)
    {
        int n = level.TableLevel();
        if (Geometry.PageTableLevels == 4)
        {
            return n == 4 ? (XenL4FirstSlot, XenL4LastSlot) : (-1, -1);
        }

        if (n == 3)
        {
            return (XenPaeL3FirstSlot, PteFormat.EntriesPerTable - 1);
        }

        if (n == 2 && PteFormat.Frame(ReadEntry(source, XenPaeL2FirstSlot)) == CompatM2pFrameBase)
        {
            return (XenPaeL2FirstSlot, PteFormat.EntriesPerTable - 1);
        }

        return (-1, -1);
    }

    internal bool NormaliseCore(PageType level, ReadOnlySpan<byte> source, Span<byte> destination, bool lenient, out PageTableError? error)
    {
        ThrowIfDiscarded();
        if (source.Length != PageGeometry.Size || destination.Length != PageGeometry.Size)
        {
            throw new ArgumentException($"page tables are {PageGeometry.Size} bytes");
        }

        error = null;
        if (!level.IsPageTable())
        {
            error = new PageTableError(PageTableErrorKind.NotAPageTable, level, -1, 0, $"type {level} is not a page table");
            return false;
        }

        int n = level.TableLevel();
        if (n > Geometry.PageTableLevels)
        {
            error = new PageTableError(PageTableErrorKind.LevelNotValidForGeometry, level, -1, 0,
                $"??? Found L{n} table for {Geometry.PageTableLevels}-level guest");
            if (!lenient)
            {
                return false;
            }
        }

        (int xenFirst, int xenLast) = XenSlots(level, source);
        for (int i = 0; i < PteFormat.EntriesPerTable; i++)
        {
            ulong pte = ReadEntry(source, i);
            if (i >= xenFirst && i <= xenLast && xenFirst >= 0)
            {
                pte = 0; // Xen's mappings: Xen rebuilds them on the other side.
            }

            if (PteFormat.IsPresent(pte))
            {
                ulong mfn = PteFormat.Frame(pte);
                if (n > 1 && (pte & PteFormat.PageSize) != 0 && !lenient)
                {
                    error = new PageTableError(PageTableErrorKind.Superpage, level, i, pte,
                        $"Cannot migrate superpage (L{n}[{i}]: 0x{pte:x16})");
                    return false;
                }

                ulong pfn;
                if (MfnInPseudophysmap(mfn))
                {
                    pfn = _m2p[mfn];
                }
                else if (lenient)
                {
                    pfn = UnknownFrameSentinel;
                }
                else
                {
                    error = new PageTableError(PageTableErrorKind.FrameNotInPseudophysmap, level, i, pte,
                        $"Bad mfn for L{n}[{i}]: pte 0x{pte:x16}, mfn 0x{mfn:x} is not in the pseudophysmap");
                    return false;
                }

                pte = PteFormat.WithFrame(pte, pfn);
            }

            WriteEntry(destination, i, pte);
        }

        return true;
    }
}
