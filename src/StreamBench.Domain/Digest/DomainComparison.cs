using StreamBench.Domain.Hvm.Context;
using StreamBench.Domain.Pv;
using StreamBench.X86;

namespace StreamBench.Domain.Digest;

/// <summary>Compares two domains through their canonical forms and names the first difference.</summary>
public static class DomainComparison
{
    /// <summary>
    /// Null if the domains have the same canonical form (hence the same digest); otherwise a
    /// description of the first difference, e.g. "page 0x1a2b (Normal): byte 0x10 differs (0x00 vs 0x5a)".
    /// </summary>
    public static string? FirstDifference(GuestDomain first, GuestDomain second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        using IEnumerator<CanonicalItem> a = CanonicalForm.Enumerate(first).GetEnumerator();
        using IEnumerator<CanonicalItem> b = CanonicalForm.Enumerate(second).GetEnumerator();
        while (true)
        {
            bool hasA = a.MoveNext();
            bool hasB = b.MoveNext();
            if (!hasA && !hasB)
            {
                return null;
            }

            if (!hasA)
            {
                return $"only the second domain has {b.Current.Describe()}";
            }

            if (!hasB)
            {
                return $"only the first domain has {a.Current.Describe()}";
            }

            CanonicalItem x = a.Current;
            CanonicalItem y = b.Current;
            if (x.Section != y.Section || x.Key != y.Key)
            {
                return $"the first domain has {x.Describe()} where the second has {y.Describe()}";
            }

            ReadOnlySpan<byte> dx = x.Data.Span;
            ReadOnlySpan<byte> dy = y.Data.Span;
            if (x.Tag != y.Tag)
            {
                if (x.Section != CanonicalSection.Page || (x.Tag ^ y.Tag) != CanonicalItem.ZeroPageTag)
                {
                    return $"{x.Describe()} vs {y.Describe()}";
                }

                // One side is a zero page: compare against zeros to name the first differing byte.
                dx = (x.Tag & CanonicalItem.ZeroPageTag) != 0 ? Pages.PageGeometry.ZeroPage : dx;
                dy = (y.Tag & CanonicalItem.ZeroPageTag) != 0 ? Pages.PageGeometry.ZeroPage : dy;
            }

            if (!dx.SequenceEqual(dy))
            {
                int at = dx.CommonPrefixLength(dy);
                string where = Locate(first, x, at);
                if (at >= dx.Length || at >= dy.Length)
                {
                    return $"{x.Describe()}: lengths differ ({dx.Length} vs {dy.Length} bytes){where}";
                }

                return $"{x.Describe()}: byte 0x{at:x}{where} differs (0x{dx[at]:x2} vs 0x{dy[at]:x2})";
            }
        }
    }

    private static string Locate(GuestDomain domain, CanonicalItem item, int offset)
    {
        switch (item.Section)
        {
            case CanonicalSection.Page when (PageTypeOf(item) >= Pages.PageType.L1Table && PageTypeOf(item) <= Pages.PageType.L4Table):
                return $" (entry {offset / PteFormat.EntrySize})";
            case CanonicalSection.VcpuBasic when domain is PvDomain pv:
                return $" ({VcpuGuestContextLayout.ForWidth(pv.Geometry.GuestWidth).DescribeOffset(offset)})";
            case CanonicalSection.HvmContext:
                return $" ({LocateInHvmBlob(item.Data.Span, offset)})";
            default:
                return string.Empty;
        }
    }

    private static Pages.PageType PageTypeOf(CanonicalItem item) => (Pages.PageType)(item.Tag & 0x07);

    private static string LocateInHvmBlob(ReadOnlySpan<byte> blob, int offset)
    {
        int at = 0;
        while (at + HvmSaveTypes.DescriptorSize <= blob.Length)
        {
            ushort type = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(blob[at..]);
            ushort instance = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(blob[(at + 2)..]);
            int length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(blob[(at + 4)..]);
            int end = at + HvmSaveTypes.DescriptorSize + length;
            if (offset < end)
            {
                int rel = offset - at - HvmSaveTypes.DescriptorSize;
                string field = rel < 0 ? "descriptor" : type == (ushort)HvmSaveType.Cpu ? HvmCpuState.DescribeOffset(rel) : $"+{rel}";
                return $"{HvmSaveTypes.Name(type)} instance {instance}, {field}";
            }

            at = end;
        }

        return "past the end";
    }
}
