namespace StreamBench.X86;

/// <summary>
/// x86 page-table entry layout. 64-bit and PAE entries are both 64 bits: present in bit 0,
/// the frame in bits 12..51, flags elsewhere (NX in bit 63).
/// </summary>
public static class PteFormat
{
    /// <summary>Bytes per entry (64-bit PTEs, also for PAE).</summary>
    public const int EntrySize = 8;

    /// <summary>Entries per page-table page.</summary>
    public const int EntriesPerTable = X86Page.Size / EntrySize;

    /// <summary>_PAGE_PRESENT.</summary>
    public const ulong Present = 1ul << 0;

    /// <summary>_PAGE_RW.</summary>
    public const ulong Writable = 1ul << 1;

    /// <summary>_PAGE_USER.</summary>
    public const ulong User = 1ul << 2;

    /// <summary>_PAGE_ACCESSED.</summary>
    public const ulong Accessed = 1ul << 5;

    /// <summary>_PAGE_DIRTY.</summary>
    public const ulong Dirty = 1ul << 6;

    /// <summary>_PAGE_PSE: in an L2/L3 entry, a superpage mapping (Xen cannot migrate these).</summary>
    public const ulong PageSize = 1ul << 7;

    /// <summary>_PAGE_GLOBAL.</summary>
    public const ulong Global = 1ul << 8;

    /// <summary>_PAGE_NX.</summary>
    public const ulong NoExecute = 1ul << 63;

    /// <summary>PTE_FRAME_MASK: bits 12..51.</summary>
    public const ulong FrameMask = 0x000F_FFFF_FFFF_F000ul;

    /// <summary>The largest frame a PTE can hold.</summary>
    public const ulong MaxFrame = FrameMask >> X86Page.Shift;

    /// <summary>True if the present bit is set.</summary>
    public static bool IsPresent(ulong pte) => (pte & Present) != 0;

    /// <summary>The frame number in bits 12..51 (pte_to_frame).</summary>
    public static ulong Frame(ulong pte) => (pte & FrameMask) >> X86Page.Shift;

    /// <summary>Replaces the frame, keeping every flag (merge_pte).</summary>
    public static ulong WithFrame(ulong pte, ulong frame) => (pte & ~FrameMask) | ((frame << X86Page.Shift) & FrameMask);

    /// <summary>Entry <paramref name="index"/> of a page-table page (little-endian u64).</summary>
    public static ulong ReadEntry(ReadOnlySpan<byte> table, int index) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(table[(index * EntrySize)..]);

    /// <summary>Writes entry <paramref name="index"/> of a page-table page.</summary>
    public static void WriteEntry(Span<byte> table, int index, ulong entry) =>
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(table[(index * EntrySize)..], entry);

    /// <summary>Builds an entry from a frame and flags.</summary>
    public static ulong Make(ulong frame, ulong flags) => ((frame << X86Page.Shift) & FrameMask) | (flags & ~FrameMask);
}
