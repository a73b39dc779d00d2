namespace StreamBench.Formats.Wire;

/// <summary>
/// The x86 page-table entries a PV stream's page-table pages carry (normalised: frames are pfns). 64-bit and PAE
/// entries are both 64 bits: present in bit 0, the frame in bits 12..51 (Xen's pte_to_frame, PTE_FRAME_MASK).
/// </summary>
public static class PteWire
{
    /// <summary>Bytes per entry (64-bit PTEs, also for PAE).</summary>
    public const int EntrySize = 8;

    /// <summary>Entries per page-table page.</summary>
    public const int EntriesPerTable = LibxcWire.PageSize / EntrySize;

    /// <summary>_PAGE_PRESENT.</summary>
    public const ulong Present = 1ul << 0;

    /// <summary>PTE_FRAME_MASK: bits 12..51.</summary>
    public const ulong FrameMask = 0x000F_FFFF_FFFF_F000ul;

    /// <summary>True if the present bit is set.</summary>
    public static bool IsPresent(ulong pte) => (pte & Present) != 0;

    /// <summary>The frame number in bits 12..51 (pte_to_frame).</summary>
    public static ulong Frame(ulong pte) => (pte & FrameMask) >> LibxcWire.PageShift;
}
