using System.Buffers.Binary;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using StreamBench.X86;

namespace StreamBench.Domain.Digest;

/// <summary>The sections of a domain's canonical form, in the order they are emitted.</summary>
public enum CanonicalSection : byte
{
    /// <summary>Guest type, geometry or memory map, vCPU count and online map, max pfn.</summary>
    Header = 1,
    /// <summary>One populated pfn: type and pin state, then its contents (normalised where it holds frames).</summary>
    Page = 2,
    /// <summary>PV: the pfns of the guest's p2m frames.</summary>
    P2mFrames = 3,
    /// <summary>PV: start_info's pfn and the xenstore/console pfns it names.</summary>
    StartInfo = 4,
    /// <summary>PV: the parts of shared_info a restore carries over (vcpu_info, arch).</summary>
    SharedInfo = 5,
    /// <summary>PV: one vCPU's basic context, normalised.</summary>
    VcpuBasic = 6,
    /// <summary>PV: one vCPU's extended context.</summary>
    VcpuExtended = 7,
    /// <summary>PV: one vCPU's xsave blob.</summary>
    VcpuXsave = 8,
    /// <summary>PV: one vCPU's MSRs.</summary>
    VcpuMsrs = 9,
    /// <summary>HVM: params in index order.</summary>
    HvmParams = 10,
    /// <summary>HVM: the context blob in canonical order.</summary>
    HvmContext = 11,
    /// <summary>The CPUID policy, sorted by leaf and subleaf.</summary>
    CpuidPolicy = 12,
    /// <summary>The MSR policy, sorted by index.</summary>
    MsrPolicy = 13,
    /// <summary>TSC mode and frequency.</summary>
    Tsc = 14,
}

/// <summary>One piece of a domain's canonical form. <see cref="Data"/> is only valid until the enumerator moves on.</summary>
/// <param name="Section">Which section.</param>
/// <param name="Key">The pfn, vCPU id, or 0.</param>
/// <param name="Tag">Extra discriminator (page type byte, online flag, zero-page marker).</param>
/// <param name="Data">The canonical bytes.</param>
public readonly record struct CanonicalItem(CanonicalSection Section, ulong Key, byte Tag, ReadOnlyMemory<byte> Data)
{
    /// <summary>Tag bit on a page item: the page is all zeros (its data is empty).</summary>
    public const byte ZeroPageTag = 0x80;

    /// <summary>A human description ("page 0x1a2b (L1Table)", "vcpu 1 basic context").</summary>
    public string Describe() => Section switch
    {
        CanonicalSection.Header => "domain header",
        CanonicalSection.Page => $"page 0x{Key:x} ({(PageType)(Tag & 0x07)}{((Tag & 0x08) != 0 ? "+pinned" : "")}{((Tag & ZeroPageTag) != 0 ? ", zero" : "")})",
        CanonicalSection.P2mFrames => "p2m frame list",
        CanonicalSection.StartInfo => "start_info fields",
        CanonicalSection.SharedInfo => "shared_info",
        CanonicalSection.VcpuBasic => $"vcpu {Key} basic context{(Tag == 0 ? " (offline)" : "")}",
        CanonicalSection.VcpuExtended => $"vcpu {Key} extended context",
        CanonicalSection.VcpuXsave => $"vcpu {Key} xsave state",
        CanonicalSection.VcpuMsrs => $"vcpu {Key} MSRs",
        CanonicalSection.HvmParams => "HVM params",
        CanonicalSection.HvmContext => "HVM context",
        CanonicalSection.CpuidPolicy => "CPUID policy",
        CanonicalSection.MsrPolicy => "MSR policy",
        CanonicalSection.Tsc => "TSC settings",
        _ => Section.ToString(),
    };
}

/// <summary>
/// Produces a domain's canonical form: everything guest-visible, in a fixed order, with every
/// machine frame number replaced by the pfn it backs (so two domains with the same guest state
/// but different mfn layouts produce identical bytes). Fields a restore legitimately rewrites
/// (event channels, shared_info's wallclock and event bitmaps, start_info's machine address of
/// shared_info, TSC elapsed time and incarnation) are left out.
/// </summary>
public static class CanonicalForm
{
    /// <summary>The canonical items of <paramref name="domain"/>, in order.</summary>
    public static IEnumerable<CanonicalItem> Enumerate(GuestDomain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        return domain switch
        {
            PvDomain pv => EnumeratePv(pv),
            HvmDomain hvm => EnumerateHvm(hvm),
            _ => throw new ArgumentException($"unknown domain class {domain.GetType().Name}", nameof(domain)),
        };
    }

    private static IEnumerable<CanonicalItem> EnumeratePv(PvDomain d)
    {
        var header = new List<byte>();
        AppendCommonHeader(header, d);
        header.Add((byte)d.Geometry.GuestWidth);
        header.Add((byte)d.Geometry.PageTableLevels);
        yield return new CanonicalItem(CanonicalSection.Header, 0, 0, header.ToArray());

        var p2mFrames = new HashSet<ulong>(d.P2mFramePfns);
        ulong? startInfo = d.StartInfoPfn;
        byte[] scratch = new byte[PageGeometry.Size];
        foreach (ulong pfn in d.PopulatedPfns())
        {
            PageInfo info = d.GetPageInfo(pfn);
            if (!info.HasContents)
            {
                continue; // Broken frames are not migrated: treat them as absent.
            }

            byte tag = (byte)((byte)info.Type | (info.Pinned ? 0x08 : 0));
            if (info.IsPageTable)
            {
                d.NormaliseCore(info.Type, d.ReadPage(pfn), scratch, lenient: true, out _);
                yield return PageItem(pfn, tag, scratch);
            }
            else if (p2mFrames.Contains(pfn))
            {
                CanonicaliseP2mFrame(d, pfn, scratch);
                yield return PageItem(pfn, tag, scratch);
            }
            else if (pfn == startInfo)
            {
                CanonicaliseStartInfo(d, pfn, scratch);
                yield return PageItem(pfn, tag, scratch);
            }
            else if (!d.IsPageMaterialised(pfn))
            {
                yield return new CanonicalItem(CanonicalSection.Page, pfn, (byte)(tag | CanonicalItem.ZeroPageTag), ReadOnlyMemory<byte>.Empty);
            }
            else
            {
                yield return PageItem(pfn, tag, d.ReadPageMemory(pfn));
            }
        }

        yield return new CanonicalItem(CanonicalSection.P2mFrames, 0, 0, Words(d.P2mFramePfns));
        yield return new CanonicalItem(CanonicalSection.StartInfo, 0, 0,
            Words([startInfo ?? PageGeometry.InvalidFrame, d.StorePfn ?? PageGeometry.InvalidFrame, d.ConsolePfn ?? PageGeometry.InvalidFrame]));
        yield return new CanonicalItem(CanonicalSection.SharedInfo, 0, 0, CanonicalSharedInfo(d));

        for (int id = 0; id < d.MaxVcpus; id++)
        {
            PvVcpuState v = d.GetVcpu(id);
            byte online = v.Online ? (byte)1 : (byte)0;
            byte[] basic = [];
            if (v.Basic is not null)
            {
                basic = new byte[v.Layout.Size];
                d.TryNormaliseVcpuBasic(id, basic, lenient: true, out _);
            }

            yield return new CanonicalItem(CanonicalSection.VcpuBasic, (ulong)id, online, basic);
            yield return new CanonicalItem(CanonicalSection.VcpuExtended, (ulong)id, v.Extended is null ? (byte)0 : (byte)1, v.Extended ?? []);
            yield return new CanonicalItem(CanonicalSection.VcpuXsave, (ulong)id, v.Xsave is null ? (byte)0 : (byte)1, v.Xsave ?? []);
            yield return new CanonicalItem(CanonicalSection.VcpuMsrs, (ulong)id, 0, Msrs(v.Msrs));
        }

        foreach (CanonicalItem item in CommonTail(d))
        {
            yield return item;
        }
    }

    private static IEnumerable<CanonicalItem> EnumerateHvm(HvmDomain d)
    {
        yield return new CanonicalItem(CanonicalSection.Header, 0, 0, HvmHeader(d));
        foreach (ulong pfn in d.PopulatedPfns())
        {
            if (HvmPageTag(d, pfn) is { } tag)
            {
                yield return HvmPage(d, pfn, tag);
            }
        }

        foreach (CanonicalItem item in HvmAfterPages(d))
        {
            yield return item;
        }
    }

    /// <summary>The header item's bytes of an HVM/PVH domain.</summary>
    internal static byte[] HvmHeader(HvmDomain d) => HvmHeader(d, predicted: false);

    /// <summary>
    /// The header a restore into <paramref name="d"/> will most likely end with, before its pages and vCPUs have
    /// arrived: every vCPU online, and the highest pfn the top of high memory or, without high memory, the last
    /// special page (what a saved running guest has).
    /// </summary>
    internal static byte[] PredictedHvmHeader(HvmDomain d) => HvmHeader(d, predicted: true);

    private static byte[] HvmHeader(HvmDomain d, bool predicted)
    {
        var header = new List<byte>();
        ulong maxPfn = !predicted ? d.MaxPfn
            : d.Layout.HighMemEndPfn > HvmMemoryLayout.FourGiBPfn ? d.Layout.HighMemEndPfn - 1 : HvmMemoryLayout.SpecialRegionEndPfn - 1;
        AppendCommonHeader(header, d, predicted, maxPfn);
        header.Add(d.IsPvh ? (byte)1 : (byte)0);
        AppendU64(header, d.Layout.LowMemEndPfn);
        AppendU64(header, d.Layout.HighMemEndPfn);
        AppendU64(header, d.Layout.MmioHoleStartPfn);
        header.Add(d.Layout.HasVgaHole ? (byte)1 : (byte)0);
        return header.ToArray();
    }

    /// <summary>The page tag of a populated pfn of an HVM/PVH domain, or null when the form leaves it out (no contents).</summary>
    internal static byte? HvmPageTag(HvmDomain d, ulong pfn)
    {
        PageInfo info = d.GetPageInfo(pfn);
        return info.HasContents ? (byte)info.Type : null;
    }

    /// <summary>The page item of a populated pfn of an HVM/PVH domain with contents.</summary>
    internal static CanonicalItem HvmPage(HvmDomain d, ulong pfn, byte tag) =>
        d.IsPageMaterialised(pfn)
            ? PageItem(pfn, tag, d.ReadPageMemory(pfn))
            : new CanonicalItem(CanonicalSection.Page, pfn, (byte)(tag | CanonicalItem.ZeroPageTag), ReadOnlyMemory<byte>.Empty);

    /// <summary>The items after the pages of an HVM/PVH domain: params, context, then the common tail.</summary>
    internal static IEnumerable<CanonicalItem> HvmAfterPages(HvmDomain d)
    {
        var parameters = new List<byte>();
        foreach (KeyValuePair<uint, ulong> kv in d.Params.Entries())
        {
            if (kv.Key == HvmParamIndex.PaeEnabled)
            {
                continue; // Obsolete: Xen's restore drops it.
            }

            AppendU64(parameters, kv.Key);
            AppendU64(parameters, kv.Value);
        }

        yield return new CanonicalItem(CanonicalSection.HvmParams, 0, 0, parameters.ToArray());
        yield return new CanonicalItem(CanonicalSection.HvmContext, 0, 0, d.GetContextBlob());

        foreach (CanonicalItem item in CommonTail(d))
        {
            yield return item;
        }
    }

    private static IEnumerable<CanonicalItem> CommonTail(GuestDomain d)
    {
        var cpuid = new List<byte>();
        foreach (CpuidLeaf l in d.CpuidPolicy.OrderBy(l => l.Leaf).ThenBy(l => l.Subleaf).ThenBy(l => (l.A, l.B, l.C, l.D)))
        {
            foreach (uint v in (ReadOnlySpan<uint>)[l.Leaf, l.Subleaf, l.A, l.B, l.C, l.D])
            {
                AppendU32(cpuid, v);
            }
        }

        yield return new CanonicalItem(CanonicalSection.CpuidPolicy, 0, 0, cpuid.ToArray());

        var msrs = new List<byte>();
        foreach (MsrPolicyEntry e in d.MsrPolicy.OrderBy(e => e.Index).ThenBy(e => (e.Flags, e.Value)))
        {
            AppendU32(msrs, e.Index);
            AppendU32(msrs, e.Flags);
            AppendU64(msrs, e.Value);
        }

        yield return new CanonicalItem(CanonicalSection.MsrPolicy, 0, 0, msrs.ToArray());

        var tsc = new List<byte>();
        AppendU32(tsc, d.Tsc.Mode);
        AppendU32(tsc, d.Tsc.KHz);
        yield return new CanonicalItem(CanonicalSection.Tsc, 0, 0, tsc.ToArray());
    }

    /// <summary>A page item: the data, or the zero-page marker and no data when it is all zeros.</summary>
    internal static CanonicalItem PageItem(ulong pfn, byte tag, ReadOnlyMemory<byte> data) =>
        data.Span.ContainsAnyExcept((byte)0)
            ? new CanonicalItem(CanonicalSection.Page, pfn, tag, data)
            : new CanonicalItem(CanonicalSection.Page, pfn, (byte)(tag | CanonicalItem.ZeroPageTag), ReadOnlyMemory<byte>.Empty);

    private static void AppendCommonHeader(List<byte> header, GuestDomain d) => AppendCommonHeader(header, d, false, d.MaxPfn);

    private static void AppendCommonHeader(List<byte> header, GuestDomain d, bool allVcpusOnline, ulong maxPfn)
    {
        header.AddRange("StreamBench.Domain/1"u8.ToArray());
        header.Add((byte)d.Type);
        AppendU32(header, (uint)d.MaxVcpus);
        for (int i = 0; i < d.MaxVcpus; i++)
        {
            header.Add(allVcpusOnline || d.IsVcpuOnline(i) ? (byte)1 : (byte)0);
        }

        AppendU64(header, maxPfn);
    }

    // p2m entries hold mfns: canonical form holds the pfn each mfn backs (INVALID if none).
    private static void CanonicaliseP2mFrame(PvDomain d, ulong pfn, Span<byte> scratch)
    {
        d.ReadPage(pfn).CopyTo(scratch);
        int width = d.Geometry.GuestWidth;
        int fpp = d.Geometry.FramesPerPage;
        for (int index = 0; index < d.P2mFramePfns.Count; index++)
        {
            if (d.P2mFramePfns[index] != pfn)
            {
                continue;
            }

            ulong first = (ulong)index * (ulong)fpp;
            for (int j = 0; j < fpp && first + (ulong)j <= d.MaxPfn; j++)
            {
                ulong mfn = PvWords.ReadFrame(scratch, j * width, width);
                ulong canonical = d.TryMfnToPfn(mfn, out ulong p) && d.MfnInPseudophysmap(mfn) ? p : PageGeometry.InvalidFrame;
                PvWords.Write(scratch, j * width, width, canonical);
            }

            break;
        }
    }

    // start_info: the xenstore/console frames as pfns; fields the restore rewrites zeroed.
    private static void CanonicaliseStartInfo(PvDomain d, ulong pfn, Span<byte> scratch)
    {
        d.ReadPage(pfn).CopyTo(scratch);
        StartInfoLayout l = d.StartInfoLayout;
        PvWords.Write(scratch, l.StoreMfn, l.Width, d.StorePfn ?? PageGeometry.InvalidFrame);
        PvWords.Write(scratch, l.ConsoleMfn, l.Width, d.ConsolePfn ?? PageGeometry.InvalidFrame);
        PvWords.Write(scratch, l.NrPages, l.Width, 0);
        PvWords.Write(scratch, l.SharedInfo, l.Width, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(scratch[l.Flags..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(scratch[l.StoreEvtchn..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(scratch[l.ConsoleEvtchn..], 0);
    }

    // handle_shared_info copies vcpu_info and arch; clears evtchn_pending_sel and the frame list list.
    private static byte[] CanonicalSharedInfo(PvDomain d)
    {
        SharedInfoLayout l = d.SharedInfoLayout;
        int vcpuInfoBytes = SharedInfoLayout.LegacyMaxVcpus * SharedInfoLayout.VcpuInfoSize;
        int archBytes = l.Size - l.ArchMaxPfn;
        var canonical = new byte[vcpuInfoBytes + archBytes];
        d.SharedInfo[..vcpuInfoBytes].CopyTo(canonical);
        d.SharedInfo.Slice(l.ArchMaxPfn, archBytes).CopyTo(canonical.AsSpan(vcpuInfoBytes));
        for (int v = 0; v < SharedInfoLayout.LegacyMaxVcpus; v++)
        {
            PvWords.Write(canonical, l.VcpuInfoPendingSel(v), l.Width, 0);
        }

        PvWords.Write(canonical, vcpuInfoBytes + (l.ArchFrameListList - l.ArchMaxPfn), l.Width, 0);
        if (l.WcSecHi > l.ArchMaxPfn)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(canonical.AsSpan(vcpuInfoBytes + (l.WcSecHi - l.ArchMaxPfn)), 0);
        }

        return canonical;
    }

    private static byte[] Words(IReadOnlyList<ulong> values)
    {
        var bytes = new byte[values.Count * 8];
        for (int i = 0; i < values.Count; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        }

        return bytes;
    }

    private static byte[] Msrs(List<VcpuMsr> msrs)
    {
        var bytes = new byte[msrs.Count * 16];
        for (int i = 0; i < msrs.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 16), msrs[i].Index);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan((i * 16) + 8), msrs[i].Value);
        }

        return bytes;
    }

    private static void AppendU32(List<byte> to, uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        foreach (byte x in b)
        {
            to.Add(x);
        }
    }

    private static void AppendU64(List<byte> to, ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        foreach (byte x in b)
        {
            to.Add(x);
        }
    }
}
