namespace StreamBench.X86;

/// <summary>The x86 page: 4 KiB (Xen's PAGE_SHIFT 12; the only page size the save format carries).</summary>
public static class X86Page
{
    /// <summary>log2 of the page size.</summary>
    public const int Shift = 12;

    /// <summary>Bytes in a page.</summary>
    public const int Size = 1 << Shift;
}
