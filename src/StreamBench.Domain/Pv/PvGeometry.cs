using StreamBench.Domain.Pages;
using StreamBench.X86;

namespace StreamBench.Domain.Pv;

/// <summary>
/// A PV guest's width and paging depth. Only (8, 4) and (4, 3) exist: 64-bit guests use 4-level
/// paging, 32-bit guests PAE (3 levels). Xen's restore refuses any other pair.
/// </summary>
public readonly record struct PvGeometry
{
    private PvGeometry(int guestWidth, int pageTableLevels)
    {
        GuestWidth = guestWidth;
        PageTableLevels = pageTableLevels;
    }

    /// <summary>64-bit: width 8, 4 levels.</summary>
    public static PvGeometry X86_64 { get; } = new(8, 4);

    /// <summary>32-bit PAE: width 4, 3 levels.</summary>
    public static PvGeometry X86_32Pae { get; } = new(4, 3);

    /// <summary>Bytes in a guest word (unsigned long): 8 or 4.</summary>
    public int GuestWidth { get; }

    /// <summary>Page-table levels: 4 or 3.</summary>
    public int PageTableLevels { get; }

    /// <summary>True for the 64-bit geometry.</summary>
    public bool Is64Bit => GuestWidth == 8;

    /// <summary>p2m entries per page: 4096 / width (512 or 1024).</summary>
    public int FramesPerPage => PvPaging.FramesPerPage(GuestWidth);

    /// <summary>The largest frame number a p2m entry can hold (width-sized entries).</summary>
    public ulong MaxRepresentableFrame => GuestWidth == 8 ? PteFormat.MaxFrame : uint.MaxValue - 1;

    /// <summary>The guest type for this geometry.</summary>
    public GuestType GuestType => Is64Bit ? GuestType.Pv : GuestType.Pv32;

    /// <summary>True if (<paramref name="guestWidth"/>, <paramref name="levels"/>) is a valid pair.</summary>
    public static bool IsValid(int guestWidth, int levels) => PvPaging.IsValidGeometry(guestWidth, levels);

    /// <summary>The geometry for a valid pair; throws <see cref="ArgumentException"/> naming both values otherwise.</summary>
    public static PvGeometry Create(int guestWidth, int levels) =>
        (guestWidth, levels) switch
        {
            (8, 4) => X86_64,
            (4, 3) => X86_32Pae,
            _ => throw new ArgumentException(
                $"invalid PV geometry: width {guestWidth}, pt_levels {levels} (only 8/4 and 4/3 are valid)"),
        };

    /// <summary>The geometry for a width (8 → 4 levels, 4 → 3 levels).</summary>
    public static PvGeometry ForWidth(int guestWidth) => guestWidth switch
    {
        8 => X86_64,
        4 => X86_32Pae,
        _ => throw new ArgumentException($"invalid PV guest width {guestWidth} (expected 4 or 8)", nameof(guestWidth)),
    };

    /// <summary>
    /// Extracts the frame from a guest cr3 value (Xen's cr3_to_mfn). 32-bit guests use the
    /// "extended cr3" format that packs a 44-bit address into 32 bits.
    /// </summary>
    public ulong Cr3ToFrame(ulong cr3)
    {
        if (Is64Bit)
        {
            return cr3 >> 12;
        }

        return (cr3 & 0xFFFF_FFFF_0000_0000ul) != 0
            ? PageGeometry.InvalidFrame
            : (uint)((cr3 >> 12) | (cr3 << 20));
    }

    /// <summary>Encodes a frame as a guest cr3 value (Xen's mfn_to_cr3).</summary>
    public ulong FrameToCr3(ulong frame)
    {
        if (Is64Bit)
        {
            return frame << 12;
        }

        return (frame & 0xFFFF_FFFF_0000_0000ul) != 0
            ? PageGeometry.InvalidFrame
            : (uint)((frame << 12) | (frame >> 20));
    }

    /// <inheritdoc/>
    public override string ToString() => $"width {GuestWidth}, {PageTableLevels} levels";

}
