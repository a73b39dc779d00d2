using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>The word size of the toolstack that wrote a legacy image: the size of every C <c>unsigned long</c> in it.</summary>
public enum LegacyWidth
{
    /// <summary>Detect from octets 4..7 (FORMATS.md 6).</summary>
    Auto = 0,
    /// <summary>A 32-bit toolstack: ulong is 4 bytes.</summary>
    Bits32 = 32,
    /// <summary>A 64-bit toolstack: ulong is 8 bytes.</summary>
    Bits64 = 64,
}

/// <summary>The guest type; the legacy stream does not name it.</summary>
public enum LegacyGuestType
{
    /// <summary>Detect from the first octets (FORMATS.md 6).</summary>
    Auto = 0,
    /// <summary>x86 PV: extended info, p2m frame list and the PV tail.</summary>
    Pv,
    /// <summary>x86 HVM: the HVM tail and a QEMU record.</summary>
    Hvm,
}

/// <summary>Which program's reading of the ambiguous corners the reader follows.</summary>
public enum LegacySemantics
{
    /// <summary>
    /// Xen's convert-legacy-stream: VCPU_INFO chunks append to the online list (duplicates kept), no VCPU_INFO means
    /// no vCPU contexts in the PV tail, a negative max_vcpu_id reads <c>max_id // 64 + 1</c> (Python floor) bitmap
    /// words, and an unknown extended-info block is an error.
    /// </summary>
    XenConverter,
    /// <summary>
    /// The C restore of Xen ≤ 4.5 (xc_domain_restore.c): VCPU_INFO replaces the online map, vCPU 0 alone is online
    /// when no VCPU_INFO was sent, a negative max_vcpu_id is an error, and unknown extended-info blocks are skipped.
    /// </summary>
    LibxcRestore,
}

/// <summary>What to do with the QEMU record after an HVM tail.</summary>
public enum LegacyQemuRecordHandling
{
    /// <summary>Read it when input follows the tail; an image that ends right after the HVM context has none.</summary>
    Auto,
    /// <summary>It must be there (a missing record is a truncation), as convert-legacy-stream without --skip-qemu.</summary>
    Require,
    /// <summary>Never read it (convert-legacy-stream --skip-qemu in libxc mode); whatever follows is trailing data.</summary>
    Skip,
}

/// <summary>The kind of item a <see cref="LegacyStreamReader"/> stands on.</summary>
public enum LegacyItemKind
{
    /// <summary>Before the first Read, or after the last.</summary>
    None,
    /// <summary>The image header: <c>ulong p2m_size</c>.</summary>
    Header,
    /// <summary>PV: the extended-info marker (~0) and <c>u32 total_len</c>.</summary>
    ExtendedInfo,
    /// <summary>PV: one extended-info block <c>{char id[4]; u32 size; data}</c>; the body is the data.</summary>
    ExtendedInfoBlock,
    /// <summary>PV: the p2m frame list, <c>ulong[FrameCount]</c>; the body is the raw ulongs.</summary>
    P2mFrameList,
    /// <summary>A page batch (positive chunk id): pfn words in <see cref="LegacyStreamReader.PfnWords"/>; the body is the page data (empty in a compressed body).</summary>
    PageBatch,
    /// <summary>A negative XC_SAVE_ID_* chunk with a fixed payload (or none); see <see cref="LegacyStreamReader.ChunkId"/>.</summary>
    Chunk,
    /// <summary>XC_SAVE_ID_COMPRESSED_DATA: the body is the delta-compressed page data.</summary>
    CompressedData,
    /// <summary>XC_SAVE_ID_TOOLSTACK: the body is the toolstack blob.</summary>
    Toolstack,
    /// <summary>One part of an XC_SAVE_ID_TMEM chunk; see <see cref="LegacyStreamReader.Tmem"/>.</summary>
    Tmem,
    /// <summary>One part of an XC_SAVE_ID_TMEM_EXTRA chunk; see <see cref="LegacyStreamReader.Tmem"/>.</summary>
    TmemExtra,
    /// <summary>Chunk id 0: the end of the body.</summary>
    EndOfBody,
    /// <summary>PV tail: <c>u32 nr_unmapped; ulong unmapped[]</c>; the body is the raw ulongs.</summary>
    PvUnmappedPfns,
    /// <summary>PV tail: one vCPU's basic context; the body is the context.</summary>
    PvVcpuBasic,
    /// <summary>PV tail: one vCPU's 128-byte extended context.</summary>
    PvVcpuExtended,
    /// <summary>PV tail: one vCPU's xsave state <c>u64 mask; u64 size; u8 data[size]</c>; the body is the data.</summary>
    PvVcpuXsave,
    /// <summary>PV tail: the 4096-byte shared_info page.</summary>
    SharedInfo,
    /// <summary>HVM tail: <c>u64 ioreq_pfn, bufioreq_pfn, store_pfn</c>.</summary>
    HvmMagicPfns,
    /// <summary>HVM tail: <c>u32 len; u8 ctx[len]</c>; the body is Xen's HVM save blob.</summary>
    HvmContext,
    /// <summary>The QEMU record: a 21-byte signature, then (0002/Remus) <c>u32 len</c> and the data, or the data to EOF.</summary>
    QemuRecord,
}

/// <summary>The QEMU record signatures (FORMATS.md 6.3).</summary>
public enum LegacyQemuSignature
{
    /// <summary>Not a QEMU record.</summary>
    None,
    /// <summary>"DeviceModelRecord0002": u32 length, then the data.</summary>
    DeviceModelRecord0002,
    /// <summary>"QemuDeviceModelRecord" (qemu-traditional): the data runs to the end of the input.</summary>
    QemuDeviceModelRecord,
    /// <summary>"RemusDeviceModelState": laid out as 0002.</summary>
    RemusDeviceModelState,
}

/// <summary>The parts a TMEM / TMEM_EXTRA chunk is read in (tools/libxc/xc_tmem.c of Xen ≤ 4.5).</summary>
public enum LegacyTmemPart
{
    /// <summary>Not on a TMEM item.</summary>
    None,
    /// <summary>TMEM: <c>u32 version, max_pools, -1, client flags, weight, cap, -1</c>.</summary>
    ClientHeader,
    /// <summary>TMEM: <c>u32 pool_id, flags, n_pages; u64 uuid[2]</c>.</summary>
    Pool,
    /// <summary>TMEM: <c>u64 oid[3]; u32 index</c>; the body is one tmem page of <see cref="LegacyTmemFields.PageSize"/> bytes.</summary>
    Page,
    /// <summary>TMEM: the all-ones oid that ends a pool's pages early.</summary>
    PoolPagesEnd,
    /// <summary>TMEM_EXTRA: <c>u32 pool_id; u64 oid[3]; u32 index</c> (a page to invalidate).</summary>
    Invalidation,
    /// <summary>TMEM or TMEM_EXTRA: the <c>u32 -1</c> that ends the pool or invalidation list.</summary>
    End,
}

/// <summary>The fields of the current TMEM / TMEM_EXTRA part.</summary>
public readonly record struct LegacyTmemFields(
    LegacyTmemPart Part,
    uint Version,
    uint MaxPools,
    uint ClientFlags,
    uint Weight,
    uint Cap,
    uint PoolId,
    uint PoolFlags,
    uint PageCount,
    ulong UuidLo,
    ulong UuidHi,
    ulong Oid0,
    ulong Oid1,
    ulong Oid2,
    uint Index,
    int PageSize);

/// <summary>The legacy TSC_INFO chunk (note the field order differs from v2's X86_TSC_INFO).</summary>
public readonly record struct LegacyTscInfo(uint Mode, ulong Nsec, uint Khz, uint Incarnation);

/// <summary>The HVM tail's magic pfns.</summary>
public readonly record struct LegacyHvmMagicPfns(ulong IoreqPfn, ulong BufioreqPfn, ulong StorePfn);

/// <summary>Options for <see cref="LegacyStreamReader"/>.</summary>
public sealed record LegacyStreamReaderOptions
{
    /// <summary>The toolstack word size, or <see cref="LegacyWidth.Auto"/>.</summary>
    public LegacyWidth Width { get; init; } = LegacyWidth.Auto;

    /// <summary>The guest type, or <see cref="LegacyGuestType.Auto"/>.</summary>
    public LegacyGuestType GuestType { get; init; } = LegacyGuestType.Auto;

    /// <summary>Whose reading of the ambiguous corners to follow.</summary>
    public LegacySemantics Semantics { get; init; } = LegacySemantics.XenConverter;

    /// <summary>The QEMU record after each HVM tail.</summary>
    public LegacyQemuRecordHandling QemuRecord { get; init; } = LegacyQemuRecordHandling.Auto;

    /// <summary>Stop after the first complete image (as convert-legacy-stream does) instead of reading Remus checkpoints.</summary>
    public bool StopAfterFirstImage { get; init; }

    /// <summary>The most online-vCPU entries kept (VCPU_INFO chunks append in <see cref="LegacySemantics.XenConverter"/>).</summary>
    public int MaxOnlineVcpuEntries { get; init; } = 16 * (LegacyWire.MaxVcpuId + 1);

    /// <summary>The largest body <see cref="LegacyStreamReader.GetBody"/> materialises.</summary>
    public int MaxBufferedBody { get; init; } = 64 << 20;
}
