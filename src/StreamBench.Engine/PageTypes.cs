using StreamBench.Domain.Pages;
using WirePageType = StreamBench.Formats.Wire.PageType;
using DomainPageType = StreamBench.Domain.Pages.PageType;

namespace StreamBench.Engine;

/// <summary>
/// Between the domain's page types and the PAGE_DATA type nibble (XEN_DOMCTL_PFINFO_*, FORMATS.md 4.2): what
/// Xen's get_pfn_type_batch reports on save and what set_page_type records on restore.
/// </summary>
internal static class PageTypes
{
    private const byte PinnedBit = 0x8; // XEN_DOMCTL_PFINFO_LPINTAB >> 28

    /// <summary>The wire type of a pfn: XTAB when nothing backs it, BROKEN, NOTAB, or LnTAB (| LPINTAB when pinned).</summary>
    public static WirePageType ToWire(PageInfo info) => info.Type switch
    {
        DomainPageType.Unpopulated => WirePageType.XTab,
        DomainPageType.Broken => WirePageType.Broken,
        DomainPageType.Normal => WirePageType.NoTab,
        _ => (WirePageType)((byte)info.Type.TableLevel() | (info.Pinned ? PinnedBit : 0)),
    };

    /// <summary>True for LnTAB types with the LPINTAB bit.</summary>
    public static bool IsPinned(WirePageType type) => type is >= WirePageType.L1TabPinned and <= WirePageType.L4TabPinned;

    /// <summary>The page-table level 1..4 of an LnTAB type (pinned or not), 0 otherwise.</summary>
    public static int TableLevel(WirePageType type)
    {
        int level = (byte)type & 0x7;
        return type is WirePageType.XTab or WirePageType.XAlloc or WirePageType.Broken || level is 0 or > 4 ? 0 : level;
    }

    /// <summary>
    /// The domain type a restore gives a pfn of wire type <paramref name="type"/>: Normal for NOTAB and XALLOC, the
    /// table level for LnTAB, Broken for BROKEN, null for XTAB (set_page_type leaves the pfn alone).
    /// </summary>
    public static DomainPageType? ToDomain(WirePageType type)
    {
        if (type is WirePageType.XTab)
        {
            return null;
        }

        if (type is WirePageType.Broken)
        {
            return DomainPageType.Broken;
        }

        int level = TableLevel(type);
        return level == 0 ? DomainPageType.Normal : PageTypeExtensions.ForTableLevel(level);
    }
}
