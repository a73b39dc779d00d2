namespace StreamBench.Domain.Pages;

/// <summary>x86 small-page geometry. One place for the numbers.</summary>
public static class PageGeometry
{
    /// <summary>log2 of the page size.</summary>
    public const int Shift = StreamBench.X86.X86Page.Shift;

    /// <summary>Bytes in a page.</summary>
    public const int Size = 1 << Shift;

    /// <summary>Pfns at or above this are refused: guest-physical addresses are at most 52 bits.</summary>
    public const ulong PfnLimit = 1ul << (52 - Shift);

    /// <summary>Xen's INVALID_MFN / INVALID_PFN (all ones).</summary>
    public const ulong InvalidFrame = ulong.MaxValue;

    /// <summary>A read-only page of zeros: what a never-written page reads as.</summary>
    public static ReadOnlySpan<byte> ZeroPage => ZeroPageArray;

    internal static readonly byte[] ZeroPageArray = new byte[Size];

    /// <summary>Pfns for a byte count, rounded up.</summary>
    public static ulong PagesFor(ulong bytes) => (bytes + Size - 1) >> Shift;
}
