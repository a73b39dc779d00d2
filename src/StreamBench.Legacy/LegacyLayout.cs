using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>
/// Field sizes and values of the legacy image that <see cref="LegacyWire"/> does not carry (FORMATS.md 6; Xen ≤ 4.5
/// tools/libxc/xc_domain_{save,restore}.c, xc_tmem.c, xc_compression.c). Sizes of <c>unsigned long</c> fields depend
/// on the toolstack width and are not here.
/// </summary>
public static class LegacyLayout
{
    /// <summary>Every chunk starts with an <c>int32</c> id: &gt; 0 page batch, 0 end of body, &lt; 0 XC_SAVE_ID_*.</summary>
    public const int ChunkIdSize = 4;

    /// <summary>The extended-info <c>u32 total_len</c> after the ~0 marker.</summary>
    public const int ExtendedInfoLengthSize = 4;

    /// <summary>An extended-info block header: <c>char id[4]; u32 size</c>.</summary>
    public const int ExtendedBlockHeaderSize = 8;

    /// <summary>"vcpu": the size of the block is the size of a basic vCPU context (and so the guest width).</summary>
    public static ReadOnlySpan<byte> VcpuBlockId => "vcpu"u8;

    /// <summary>"extv": 128-byte extended vCPU contexts follow each basic one in the PV tail.</summary>
    public static ReadOnlySpan<byte> ExtvBlockId => "extv"u8;

    /// <summary>"xcnt": the first u32 of the data is the per-vCPU xsave record length (16 + the xsave size).</summary>
    public static ReadOnlySpan<byte> XcntBlockId => "xcnt"u8;

    /// <summary>The payload of the chunks that carry one HVM param: <c>u32 pad; u64 value</c>.</summary>
    public const int HvmParamChunkPayload = 12;

    /// <summary>TSC_INFO payload: <c>u32 mode; u64 nsec; u32 khz; u32 incarnation</c> (packed).</summary>
    public const int TscChunkPayload = 20;

    /// <summary>VCPU_INFO: <c>int max_vcpu_id</c>, then <c>u64 bitmap[max_vcpu_id / 64 + 1]</c>.</summary>
    public const int VcpuInfoMaxIdSize = 4;

    /// <summary>The most bitmap words VCPU_INFO carries (max_vcpu_id ≤ 4095).</summary>
    public const int MaxVcpuBitmapWords = (LegacyWire.MaxVcpuId / 64) + 1;

    /// <summary>TOOLSTACK: <c>u32 size</c> before the blob.</summary>
    public const int ToolstackSizeField = 4;

    /// <summary>The PV tail's <c>u32 nr_unmapped</c>.</summary>
    public const int UnmappedCountSize = 4;

    /// <summary>The PV tail's xsave header: <c>u64 xfeature_mask; u64 size</c>.</summary>
    public const int XsaveHeaderSize = 16;

    /// <summary>The HVM tail's magic pfns: three u64.</summary>
    public const int HvmMagicPfnsSize = 24;

    /// <summary>The HVM tail's <c>u32</c> context length.</summary>
    public const int HvmContextLengthSize = 4;

    /// <summary>The <c>u32</c> length after a 0002 / Remus QEMU signature.</summary>
    public const int QemuLengthSize = 4;

    /// <summary>Bytes in a page.</summary>
    public const int PageSize = 4096;

    /// <summary>The shared_info page at the end of the PV tail.</summary>
    public const int SharedInfoSize = 4096;

    /// <summary>Type bits of a legacy pfn word (bits 31..28).</summary>
    public const ulong TypeMask = 0xF000_0000ul;

    /// <summary>The first type without page data (BROKEN); XALLOC (0xE) and XTAB (0xF) have none either.</summary>
    public const uint FirstTypeWithoutData = 0xD;

    /// <summary>A bare XTAB with pfn 0: xc_domain_save pads batches with it; the converter drops it.</summary>
    public const ulong XtabPfnZero = 0xF000_0000ul;

    /// <summary>The v2 pfn word shifts the type from bit 28 to bit 60.</summary>
    public const int V2TypeShiftDelta = 32;

    /// <summary>TMEM pool flags: page size is <c>1 &lt;&lt; (((flags &gt;&gt; 4) &amp; 0xF) + 12)</c>.</summary>
    public const int TmemPoolPageSizeShift = 4;

    /// <summary>See <see cref="TmemPoolPageSizeShift"/>.</summary>
    public const uint TmemPoolPageSizeMask = 0xF;

    /// <summary>TMEM client header after the chunk id: version, max_pools, -1, flags, weight, cap, -1 (seven u32).</summary>
    public const int TmemClientHeaderSize = 28;

    /// <summary>A TMEM pool after its <c>u32 pool_id</c>: <c>u32 flags, n_pages; u64 uuid[2]</c>.</summary>
    public const int TmemPoolHeaderSize = 24;

    /// <summary>A tmem object id: <c>u64 oid[3]</c>.</summary>
    public const int TmemOidSize = 24;

    /// <summary>The <c>u32 index</c> after a page's oid.</summary>
    public const int TmemIndexSize = 4;

    /// <summary>A TMEM_EXTRA invalidation after its <c>u32 pool_id</c>: oid and index.</summary>
    public const int TmemInvalidationSize = TmemOidSize + TmemIndexSize;

    /// <summary>The u32 -1 that ends pool and invalidation lists and sits in the client header.</summary>
    public const uint TmemMinusOne = 0xFFFF_FFFFu;

    /// <summary>The legacy libxl physmap entry header: <c>u64 phys_offset, start_addr, size; u32 namelen</c>.</summary>
    public const int PhysmapEntryHeaderSize = 28;

    /// <summary>The legacy libxl toolstack blob header: <c>u32 version; u32 count</c>.</summary>
    public const int ToolstackBlobHeaderSize = 8;

    /// <summary>On 64-bit builds 4 bytes of struct padding follow each physmap name's NUL.</summary>
    public const int PhysmapNamePadding64 = 4;

    /// <summary>The v2 HVM_PARAMS index carried by an HVM-param chunk, or null for other chunks.</summary>
    public static HvmParam? HvmParamOf(LegacyChunkId id) => id switch
    {
        LegacyChunkId.HvmIdentPt => HvmParam.IdentPt,
        LegacyChunkId.HvmVm86Tss => HvmParam.Vm86Tss,
        LegacyChunkId.HvmConsolePfn => HvmParam.ConsolePfn,
        LegacyChunkId.HvmAcpiIoportsLocation => HvmParam.AcpiIoportsLocation,
        LegacyChunkId.HvmViridian => HvmParam.Viridian,
        LegacyChunkId.HvmGenerationIdAddr => HvmParam.VmGenerationIdAddr,
        LegacyChunkId.HvmPagingRingPfn => HvmParam.PagingRingPfn,
        LegacyChunkId.HvmMonitorRingPfn => HvmParam.MonitorRingPfn,
        LegacyChunkId.HvmSharingRingPfn => HvmParam.SharingRingPfn,
        LegacyChunkId.HvmIoreqServerPfn => HvmParam.IoreqServerPfn,
        LegacyChunkId.HvmNrIoreqServerPages => HvmParam.NrIoreqServerPages,
        _ => null,
    };

    /// <summary>The XC_SAVE_ID_* name of a chunk id (as Xen's headers spell it), or "CHUNK(id)".</summary>
    public static string ChunkName(int id) => id switch
    {
        0 => "END_OF_BODY",
        > 0 => "PAGE_BATCH",
        (int)LegacyChunkId.EnableVerifyMode => "XC_SAVE_ID_ENABLE_VERIFY_MODE",
        (int)LegacyChunkId.VcpuInfo => "XC_SAVE_ID_VCPU_INFO",
        (int)LegacyChunkId.HvmIdentPt => "XC_SAVE_ID_HVM_IDENT_PT",
        (int)LegacyChunkId.HvmVm86Tss => "XC_SAVE_ID_HVM_VM86_TSS",
        (int)LegacyChunkId.Tmem => "XC_SAVE_ID_TMEM",
        (int)LegacyChunkId.TmemExtra => "XC_SAVE_ID_TMEM_EXTRA",
        (int)LegacyChunkId.TscInfo => "XC_SAVE_ID_TSC_INFO",
        (int)LegacyChunkId.HvmConsolePfn => "XC_SAVE_ID_HVM_CONSOLE_PFN",
        (int)LegacyChunkId.LastCheckpoint => "XC_SAVE_ID_LAST_CHECKPOINT",
        (int)LegacyChunkId.HvmAcpiIoportsLocation => "XC_SAVE_ID_HVM_ACPI_IOPORTS_LOCATION",
        (int)LegacyChunkId.HvmViridian => "XC_SAVE_ID_HVM_VIRIDIAN",
        (int)LegacyChunkId.CompressedData => "XC_SAVE_ID_COMPRESSED_DATA",
        (int)LegacyChunkId.EnableCompression => "XC_SAVE_ID_ENABLE_COMPRESSION",
        (int)LegacyChunkId.HvmGenerationIdAddr => "XC_SAVE_ID_HVM_GENERATION_ID_ADDR",
        (int)LegacyChunkId.HvmPagingRingPfn => "XC_SAVE_ID_HVM_PAGING_RING_PFN",
        (int)LegacyChunkId.HvmMonitorRingPfn => "XC_SAVE_ID_HVM_MONITOR_RING_PFN",
        (int)LegacyChunkId.HvmSharingRingPfn => "XC_SAVE_ID_HVM_SHARING_RING_PFN",
        (int)LegacyChunkId.Toolstack => "XC_SAVE_ID_TOOLSTACK",
        (int)LegacyChunkId.HvmIoreqServerPfn => "XC_SAVE_ID_HVM_IOREQ_SERVER_PFN",
        (int)LegacyChunkId.HvmNrIoreqServerPages => "XC_SAVE_ID_HVM_NR_IOREQ_SERVER_PAGES",
        _ => FormattableString.Invariant($"CHUNK({id})"),
    };
}

/// <summary>Legacy pfn words: type in bits 31..28, pfn in 27..0, carried in a toolstack ulong.</summary>
public static class LegacyPfn
{
    /// <summary>The 4-bit type (XEN_DOMCTL_PFINFO_* &gt;&gt; 28).</summary>
    public static uint TypeOf(ulong word) => (uint)((word & LegacyLayout.TypeMask) >> LegacyWire.TypeShift);

    /// <summary>The pfn (bits 27..0).</summary>
    public static ulong PfnOf(ulong word) => word & LegacyWire.PfnMask;

    /// <summary>Whether 4096 bytes of data follow for this word: the type is below BROKEN (types 5..8 included, as both readers do).</summary>
    public static bool HasData(ulong word) => TypeOf(word) < LegacyLayout.FirstTypeWithoutData;

    /// <summary>The v2 PAGE_DATA word exactly as convert-legacy-stream makes it: <c>((x &amp; 0xf0000000) &lt;&lt; 32) | (x &amp; 0x0fffffff)</c>.</summary>
    public static ulong ToV2Word(ulong word) => ((word & LegacyLayout.TypeMask) << LegacyLayout.V2TypeShiftDelta) | (word & LegacyWire.PfnMask);

    /// <summary>Makes a legacy word from a type and a pfn.</summary>
    public static ulong Make(ulong pfn, uint type) => ((ulong)(type & 0xF) << LegacyWire.TypeShift) | (pfn & LegacyWire.PfnMask);
}

/// <summary>The result of <see cref="LegacyFormatDetector.Detect"/>.</summary>
public readonly record struct LegacyDetection(LegacyWidth Width, LegacyGuestType GuestType, string Reason);

/// <summary>
/// Tells the toolstack width and the guest type of a legacy image from its first 16 octets (FORMATS.md 6): octets
/// 4..7 are zero on a 64-bit toolstack (the high half of p2m_size), 0xFFFFFFFF on a 32-bit PV image (the
/// extended-info marker) and the first chunk id on a 32-bit HVM image. On a 64-bit toolstack octets 8..15 are all
/// ones for PV (the marker). Either answer can be forced.
/// </summary>
public static class LegacyFormatDetector
{
    /// <summary>The octets the detector looks at.</summary>
    public const int BytesNeeded = 16;

    /// <summary>Detects what is not forced. <paramref name="head"/> must hold at least 8 octets (16 to tell a 64-bit PV image).</summary>
    public static LegacyDetection Detect(ReadOnlySpan<byte> head, LegacyWidth width = LegacyWidth.Auto, LegacyGuestType guest = LegacyGuestType.Auto)
    {
        if (head.Length < 8 && (width == LegacyWidth.Auto || guest == LegacyGuestType.Auto))
        {
            throw new ArgumentException("at least 8 octets are needed", nameof(head));
        }
        var reason = "forced";
        var octets4 = head.Length >= 8 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(head[4..]) : 0u;
        if (width == LegacyWidth.Auto)
        {
            if (guest == LegacyGuestType.Pv)
            {
                width = octets4 == LegacyWire.ExtendedInfoMarker32 ? LegacyWidth.Bits32 : LegacyWidth.Bits64;
            }
            else if (guest == LegacyGuestType.Hvm)
            {
                width = octets4 == 0 ? LegacyWidth.Bits64 : LegacyWidth.Bits32;
            }
            else
            {
                width = octets4 == 0 ? LegacyWidth.Bits64 : LegacyWidth.Bits32;
            }
            reason = octets4 switch
            {
                0 => "octets 4..7 are zero (high half of a 64-bit p2m_size)",
                LegacyWire.ExtendedInfoMarker32 => "octets 4..7 are 0xFFFFFFFF (32-bit extended-info marker)",
                _ => FormattableString.Invariant($"octets 4..7 read as chunk id {(int)octets4} (32-bit HVM body)"),
            };
        }
        if (guest == LegacyGuestType.Auto)
        {
            if (width == LegacyWidth.Bits64)
            {
                var marker = head.Length >= 16 && System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(head[8..]) == LegacyWire.ExtendedInfoMarker64;
                guest = marker ? LegacyGuestType.Pv : LegacyGuestType.Hvm;
                reason += marker ? "; octets 8..15 are the 64-bit extended-info marker (PV)" : "; no extended-info marker at octet 8 (HVM)";
            }
            else
            {
                var marker = octets4 == LegacyWire.ExtendedInfoMarker32;
                guest = marker ? LegacyGuestType.Pv : LegacyGuestType.Hvm;
                reason += marker ? "; PV" : "; HVM";
            }
        }
        return new LegacyDetection(width, guest, reason);
    }
}
