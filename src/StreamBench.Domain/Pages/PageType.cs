namespace StreamBench.Domain.Pages;

/// <summary>
/// What backs a pfn, in the domain's own terms. The engine maps these to wire values
/// (NOTAB, L1TAB..L4TAB, LPINTAB, BROKEN, XTAB); the domain never sees those numbers.
/// </summary>
public enum PageType : byte
{
    /// <summary>No frame behind the pfn (never populated, ballooned out, or in a hole).</summary>
    Unpopulated = 0,

    /// <summary>Ordinary RAM (data, GDT, start_info, p2m, rings, ...).</summary>
    Normal = 1,

    /// <summary>A level-1 page table (PV).</summary>
    L1Table = 2,

    /// <summary>A level-2 page table (PV).</summary>
    L2Table = 3,

    /// <summary>A level-3 page table (PV).</summary>
    L3Table = 4,

    /// <summary>A level-4 page table (PV, 64-bit only).</summary>
    L4Table = 5,

    /// <summary>Populated but poisoned by a machine check: its contents are not migrated.</summary>
    Broken = 6,
}

/// <summary>A pfn's type plus its pin state, as the saver reports it.</summary>
/// <param name="Type">What backs the pfn.</param>
/// <param name="Pinned">True if the page table is pinned (only meaningful for page-table types).</param>
public readonly record struct PageInfo(PageType Type, bool Pinned)
{
    /// <summary>An unpopulated pfn.</summary>
    public static PageInfo Unpopulated => new(PageType.Unpopulated, false);

    /// <summary>An ordinary RAM page.</summary>
    public static PageInfo Normal => new(PageType.Normal, false);

    /// <summary>True if the pfn has a frame behind it (including broken frames).</summary>
    public bool IsPopulated => Type != PageType.Unpopulated;

    /// <summary>True for L1..L4 tables.</summary>
    public bool IsPageTable => Type.IsPageTable();

    /// <summary>True if the page's contents travel in the stream (everything populated except broken).</summary>
    public bool HasContents => Type is not (PageType.Unpopulated or PageType.Broken);

    /// <inheritdoc/>
    public override string ToString() => Pinned ? $"{Type}+pinned" : Type.ToString();
}

/// <summary>Helpers on <see cref="PageType"/>.</summary>
public static class PageTypeExtensions
{
    /// <summary>True for L1..L4 tables.</summary>
    public static bool IsPageTable(this PageType type) => type is >= PageType.L1Table and <= PageType.L4Table;

    /// <summary>The page-table level (1..4), or 0 for non-tables.</summary>
    public static int TableLevel(this PageType type) => type.IsPageTable() ? type - PageType.L1Table + 1 : 0;

    /// <summary>The page type of a table of the given level (1..4).</summary>
    public static PageType ForTableLevel(int level) => level switch
    {
        1 => PageType.L1Table,
        2 => PageType.L2Table,
        3 => PageType.L3Table,
        4 => PageType.L4Table,
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, "page-table level must be 1..4"),
    };
}
