using StreamBench.Domain.Pages;

namespace StreamBench.Domain.Pv;

/// <summary>Why a page-table page could not be normalised or localised.</summary>
public enum PageTableErrorKind
{
    /// <summary>A present entry names an mfn outside the domain's pseudophysmap (save side).</summary>
    FrameNotInPseudophysmap,

    /// <summary>A present L2+ entry has _PAGE_PSE set: Xen cannot migrate superpages.</summary>
    Superpage,

    /// <summary>The table level does not exist for the guest's geometry (L4 in a 3-level guest).</summary>
    LevelNotValidForGeometry,

    /// <summary>A present entry names a pfn above max_pfn (restore side).</summary>
    PfnBeyondMaxPfn,

    /// <summary>A present entry names a pfn that is not populated and population was not allowed or failed.</summary>
    PfnNotPopulated,

    /// <summary>The page is not a page table.</summary>
    NotAPageTable,
}

/// <summary>A precise page-table failure: which table, which entry, which value.</summary>
/// <param name="Kind">What went wrong.</param>
/// <param name="Level">The table type.</param>
/// <param name="Index">The entry index (0..511), or -1 for whole-table problems.</param>
/// <param name="Entry">The offending entry value.</param>
/// <param name="Message">A message in Xen's style ("Bad mfn for L1[17] ...").</param>
public sealed record PageTableError(PageTableErrorKind Kind, PageType Level, int Index, ulong Entry, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => Message;
}

/// <summary>A page-table operation failed; <see cref="Error"/> says exactly where.</summary>
public sealed class PageTableException : DomainException
{
    /// <summary>Creates an exception for <paramref name="error"/>.</summary>
    public PageTableException(PageTableError error) : base(error?.Message ?? "page-table error") => Error = error;

    /// <summary>Creates an exception with a message only.</summary>
    public PageTableException() : base("page-table error") { }

    /// <summary>Creates an exception with a message only.</summary>
    public PageTableException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and cause.</summary>
    public PageTableException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The failure, if known.</summary>
    public PageTableError? Error { get; }
}
