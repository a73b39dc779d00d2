namespace StreamBench.X86;

/// <summary>
/// The two PV paging geometries Xen's restore accepts: a 64-bit guest (width 8) with 4-level paging and a 32-bit PAE
/// guest (width 4) with 3 levels (xg_sr_common_x86_pv.c's width/levels check).
/// </summary>
public static class PvPaging
{
    /// <summary>Whether (<paramref name="guestWidth"/>, <paramref name="levels"/>) is one of the two valid pairs.</summary>
    public static bool IsValidGeometry(int guestWidth, int levels) => (guestWidth, levels) is (8, 4) or (4, 3);

    /// <summary>p2m entries per page: the page size over the guest width (512 or 1024).</summary>
    public static int FramesPerPage(int guestWidth) => X86Page.Size / guestWidth;
}
