using StreamBench.Domain.Pages;

namespace StreamBench.Domain.Hvm;

/// <summary>What a guest-physical pfn is in an HVM/PVH domain's memory map.</summary>
public enum HvmRegion
{
    /// <summary>Guest RAM (below the hole, or above 4 GiB).</summary>
    Ram,

    /// <summary>The legacy VGA window 0xA0000-0xBFFFF (HVM with a device model only). Never populated.</summary>
    VgaHole,

    /// <summary>The MMIO hole below 4 GiB. Never populated (except the special region inside it).</summary>
    MmioHole,

    /// <summary>The special region at the top of the hole: magic pages and ioreq-server pages. Populated by the builder.</summary>
    SpecialRegion,

    /// <summary>Outside the RAM map but not a hole (ballooned-up space). May be populated, subject to the memory limit.</summary>
    Unbacked,
}

/// <summary>
/// The guest-physical memory map libxl/libxc build for HVM and PVH guests
/// (xg_dom_x86.c meminit_hvm and alloc_magic_pages_hvm): RAM [0, lowmem_end), the MMIO hole
/// [hole_start, 4 GiB), RAM again [4 GiB, highmem_end). The 8 special pages and 8 ioreq-server
/// pages sit just below 0xFF000 (inside the hole). HVM guests also skip the VGA window.
/// </summary>
public sealed record HvmMemoryLayout
{
    /// <summary>The pfn of 4 GiB.</summary>
    public const ulong FourGiBPfn = 0x10_0000;

    /// <summary>HVM_BELOW_4G_MMIO_START: libxl's default hole start (3.75 GiB).</summary>
    public const ulong DefaultMmioHoleStartPfn = 0xF_0000;

    /// <summary>First pfn of the VGA window.</summary>
    public const ulong VgaHoleStartPfn = 0xA0;

    /// <summary>First pfn after the VGA window.</summary>
    public const ulong VgaHoleEndPfn = 0xC0;

    /// <summary>X86_HVM_END_SPECIAL_REGION.</summary>
    public const ulong SpecialRegionEndPfn = 0xF_F000;

    /// <summary>X86_HVM_NR_SPECIAL_PAGES.</summary>
    public const int SpecialPageCount = 8;

    /// <summary>NR_IOREQ_SERVER_PAGES.</summary>
    public const int IoreqServerPageCount = 8;

    /// <summary>special_pfn(0): the first special page (paging ring).</summary>
    public const ulong SpecialPagesStartPfn = SpecialRegionEndPfn - SpecialPageCount;

    /// <summary>ioreq_server_pfn(0): first ioreq-server page, just below the special pages.</summary>
    public const ulong IoreqServerStartPfn = SpecialPagesStartPfn - IoreqServerPageCount;

    /// <summary>RAM below the hole ends here (exclusive).</summary>
    public required ulong LowMemEndPfn { get; init; }

    /// <summary>RAM above 4 GiB ends here (exclusive); equal to <see cref="FourGiBPfn"/> when there is none.</summary>
    public required ulong HighMemEndPfn { get; init; }

    /// <summary>Start of the MMIO hole (it runs to 4 GiB).</summary>
    public required ulong MmioHoleStartPfn { get; init; }

    /// <summary>True if the VGA window is left unpopulated (HVM with a device model).</summary>
    public required bool HasVgaHole { get; init; }

    /// <summary>RAM pages in the map (excluding the VGA window and the special region).</summary>
    public ulong RamPages =>
        LowMemEndPfn - (HasVgaHole && LowMemEndPfn > VgaHoleStartPfn ? Math.Min(LowMemEndPfn, VgaHoleEndPfn) - VgaHoleStartPfn : 0)
        + (HighMemEndPfn - FourGiBPfn);

    /// <summary>The layout libxl makes for <paramref name="memoryPages"/> pages of RAM.</summary>
    public static HvmMemoryLayout ForMemory(ulong memoryPages, bool vgaHole, ulong mmioHoleStartPfn = DefaultMmioHoleStartPfn)
    {
        if (mmioHoleStartPfn > SpecialRegionEndPfn - SpecialPageCount - IoreqServerPageCount)
        {
            throw new ArgumentOutOfRangeException(nameof(mmioHoleStartPfn), mmioHoleStartPfn, "the MMIO hole must contain the special region");
        }

        ulong low = Math.Min(memoryPages, mmioHoleStartPfn);
        ulong high = memoryPages - low;
        return new HvmMemoryLayout
        {
            LowMemEndPfn = low,
            HighMemEndPfn = FourGiBPfn + high,
            MmioHoleStartPfn = mmioHoleStartPfn,
            HasVgaHole = vgaHole,
        };
    }

    /// <summary>special_pfn(<paramref name="index"/>) for index 0..7 (paging, access, sharing, bufioreq, xenstore, ioreq, ident_pt, console).</summary>
    public static ulong SpecialPfn(int index) => SpecialPagesStartPfn + (ulong)index;

    /// <summary>ioreq_server_pfn(<paramref name="index"/>).</summary>
    public static ulong IoreqServerPfn(int index) => IoreqServerStartPfn + (ulong)index;

    /// <summary>Classifies a pfn.</summary>
    public HvmRegion Classify(ulong pfn)
    {
        if (HasVgaHole && pfn >= VgaHoleStartPfn && pfn < VgaHoleEndPfn)
        {
            return HvmRegion.VgaHole;
        }

        if (pfn >= IoreqServerStartPfn && pfn < SpecialRegionEndPfn)
        {
            return HvmRegion.SpecialRegion;
        }

        if (pfn >= MmioHoleStartPfn && pfn < FourGiBPfn)
        {
            return HvmRegion.MmioHole;
        }

        if (pfn < LowMemEndPfn || (pfn >= FourGiBPfn && pfn < HighMemEndPfn))
        {
            return HvmRegion.Ram;
        }

        return HvmRegion.Unbacked;
    }

    /// <summary>True unless the pfn lies in a hole; <paramref name="reason"/> names the hole.</summary>
    public bool MayPopulate(ulong pfn, out string reason)
    {
        switch (Classify(pfn))
        {
            case HvmRegion.VgaHole:
                reason = $"pfn 0x{pfn:x} is in the VGA hole [0x{VgaHoleStartPfn:x}, 0x{VgaHoleEndPfn:x})";
                return false;
            case HvmRegion.MmioHole:
                reason = $"pfn 0x{pfn:x} is in the MMIO hole [0x{MmioHoleStartPfn:x}, 0x{FourGiBPfn:x})";
                return false;
            default:
                reason = string.Empty;
                return true;
        }
    }

    /// <summary>The RAM pfns of the map, ascending (what the builder populates, besides the special region).</summary>
    public IEnumerable<ulong> RamPfns()
    {
        for (ulong pfn = 0; pfn < LowMemEndPfn; pfn++)
        {
            if (!(HasVgaHole && pfn >= VgaHoleStartPfn && pfn < VgaHoleEndPfn))
            {
                yield return pfn;
            }
        }

        for (ulong pfn = FourGiBPfn; pfn < HighMemEndPfn; pfn++)
        {
            yield return pfn;
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"RAM [0, 0x{LowMemEndPfn:x}) + [0x{FourGiBPfn:x}, 0x{HighMemEndPfn:x}), MMIO hole [0x{MmioHoleStartPfn:x}, 0x{FourGiBPfn:x}), VGA hole {(HasVgaHole ? "yes" : "no")}";
}
