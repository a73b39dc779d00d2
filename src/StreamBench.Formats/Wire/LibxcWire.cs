
namespace StreamBench.Formats.Wire;

/// <summary>The libxc image and domain headers (docs/specs/libxc-migration-stream.pandoc rev 3; FORMATS.md 3).</summary>
public static class LibxcWire
{
    /// <summary>All ones: a legacy image always has a zero bit in its first 8 octets.</summary>
    public const ulong Marker = 0xFFFF_FFFF_FFFF_FFFFul;

    /// <summary>"XENF" read as a big-endian u32.</summary>
    public const uint Id = 0x5845_4E46u;

    /// <summary>The oldest image version restore accepts.</summary>
    public const uint MinVersion = 2;

    /// <summary>The newest image version; the saver writes it.</summary>
    public const uint MaxVersion = 3;

    /// <summary>The image header: marker, id, version, options, two reserved fields. Always big-endian.</summary>
    public const int ImageHeaderSize = 24;

    /// <summary>The domain header: type, page_shift, reserved, xen_major, xen_minor.</summary>
    public const int DomainHeaderSize = 16;

    /// <summary>The only page shift: 4 KiB pages.</summary>
    public const ushort PageShift = StreamBench.X86.X86Page.Shift;

    /// <summary>Bytes in a page.</summary>
    public const int PageSize = 1 << PageShift;

    /// <summary>The C restore's cap on a record body, before padding (REC_LENGTH_MAX, Xen ≥ 4.10).</summary>
    public const uint RecordLengthMax = 128u << 20;

    /// <summary>REC_LENGTH_MAX before Xen 4.10, and in the post-copy RFC tree.</summary>
    public const uint RecordLengthMaxOld = 8u << 20;

    /// <summary>The saver's largest PAGE_DATA batch (MAX_BATCH_SIZE).</summary>
    public const int MaxBatchSize = 1024;

    /// <summary>xen_major of a stream converted from legacy by convert-legacy-stream.</summary>
    public const uint LegacyConvertedMajor = 0;
}

/// <summary>Image header option bits (u16).</summary>
[Flags]
public enum LibxcImageOptions : ushort
{
    /// <summary>Little-endian.</summary>
    None = 0,
    /// <summary>bit0: big-endian (the C restore refuses it).</summary>
    BigEndian = 1,
}

/// <summary>Domain header type (FORMATS.md 3.2). 0 and 3+ are reserved upstream.</summary>
public enum DomainType : uint
{
    /// <summary>Reserved.</summary>
    Reserved = 0,
    /// <summary>x86 PV.</summary>
    X86Pv = 1,
    /// <summary>x86 HVM (PVH streams are HVM streams).</summary>
    X86Hvm = 2,
}

/// <summary>Upstream libxc record types 0x00..0x12 (FORMATS.md 4.1).</summary>
public enum LibxcRecordType : uint
{
    /// <summary>The last libxc record.</summary>
    End = 0x00,
    /// <summary>A batch of pfns and their pages.</summary>
    PageData = 0x01,
    /// <summary>PV guest width and page-table levels.</summary>
    X86PvInfo = 0x02,
    /// <summary>The frames holding the PV p2m.</summary>
    X86PvP2mFrames = 0x03,
    /// <summary>A PV vcpu_guest_context.</summary>
    X86PvVcpuBasic = 0x04,
    /// <summary>A PV extended vCPU context.</summary>
    X86PvVcpuExtended = 0x05,
    /// <summary>A PV vCPU's xsave state.</summary>
    X86PvVcpuXsave = 0x06,
    /// <summary>The PV shared_info page.</summary>
    SharedInfo = 0x07,
    /// <summary>TSC mode, frequency, offset and incarnation.</summary>
    X86TscInfo = 0x08,
    /// <summary>Xen's HVM save blob.</summary>
    HvmContext = 0x09,
    /// <summary>HVM params as index/value pairs.</summary>
    HvmParams = 0x0A,
    /// <summary>Deprecated opaque toolstack data.</summary>
    Toolstack = 0x0B,
    /// <summary>A PV vCPU's MSRs.</summary>
    X86PvVcpuMsrs = 0x0C,
    /// <summary>Debug: all memory sent, later pages are compared.</summary>
    Verify = 0x0D,
    /// <summary>Ends one consistent checkpoint.</summary>
    Checkpoint = 0x0E,
    /// <summary>COLO back channel: pfns dirtied on the secondary.</summary>
    CheckpointDirtyPfnList = 0x0F,
    /// <summary>v3: ends the static data.</summary>
    StaticDataEnd = 0x10,
    /// <summary>v3: the CPUID policy.</summary>
    X86CpuidPolicy = 0x11,
    /// <summary>v3: the MSR policy.</summary>
    X86MsrPolicy = 0x12,
}

/// <summary>
/// The post-copy RFC's libxc records (FORMATS.md 9). 0x10..0x12 collide with upstream v3
/// (<see cref="LibxcRecordType.StaticDataEnd"/>, <see cref="LibxcRecordType.X86CpuidPolicy"/>,
/// <see cref="LibxcRecordType.X86MsrPolicy"/>): the dialect is always chosen explicitly.
/// </summary>
public enum PostcopyRecordType : uint
{
    /// <summary>Empty; the CPU context records follow immediately.</summary>
    PostcopyBegin = 0x10,
    /// <summary>Empty; the destination prepares paging.</summary>
    PostcopyPfnsBegin = 0x11,
    /// <summary>PAGE_DATA layout without page contents.</summary>
    PostcopyPfns = 0x12,
    /// <summary>Empty; libxc hands the stream to libxl for the device-model records.</summary>
    PostcopyTransition = 0x13,
    /// <summary>PAGE_DATA layout; every pfn announced before.</summary>
    PostcopyPageData = 0x14,
    /// <summary>Back channel: pfns the destination faulted on (no type bits).</summary>
    PostcopyFault = 0x15,
    /// <summary>Back channel: the destination has every page.</summary>
    PostcopyComplete = 0x16,
}

/// <summary>Which record dictionary a libxc stream uses. Never guessed: chosen by the caller.</summary>
public enum StreamDialect
{
    /// <summary>Upstream Xen (v2, v3).</summary>
    Upstream,
    /// <summary>The 2017/2018 post-copy RFC (jtotto/xen), based on v2.</summary>
    PostcopyRfc,
}

/// <summary>XEN_DOMCTL_PFINFO_* page types as carried in bits 63..60 of a PAGE_DATA word (FORMATS.md 4.2).</summary>
public enum PageType : byte
{
    /// <summary>A normal page.</summary>
    NoTab = 0x0,
    /// <summary>L1 page table.</summary>
    L1Tab = 0x1,
    /// <summary>L2 page table.</summary>
    L2Tab = 0x2,
    /// <summary>L3 page table.</summary>
    L3Tab = 0x3,
    /// <summary>L4 page table.</summary>
    L4Tab = 0x4,
    /// <summary>Invalid (LPINTAB alone).</summary>
    Invalid5 = 0x5,
    /// <summary>Invalid.</summary>
    Invalid6 = 0x6,
    /// <summary>Invalid.</summary>
    Invalid7 = 0x7,
    /// <summary>Invalid (LPINTAB with no table level).</summary>
    Invalid8 = 0x8,
    /// <summary>Pinned L1 page table.</summary>
    L1TabPinned = 0x9,
    /// <summary>Pinned L2 page table.</summary>
    L2TabPinned = 0xA,
    /// <summary>Pinned L3 page table.</summary>
    L3TabPinned = 0xB,
    /// <summary>Pinned L4 page table.</summary>
    L4TabPinned = 0xC,
    /// <summary>A broken page: no data, not populated.</summary>
    Broken = 0xD,
    /// <summary>Allocate only (Xen 4.2-4.5): no data, populated.</summary>
    XAlloc = 0xE,
    /// <summary>Invalid or unmapped: no data, not populated.</summary>
    XTab = 0xF,
}

/// <summary>The PAGE_DATA pfn word: type in bits 63..60, reserved 59..52, pfn in 51..0.</summary>
public static class PageWord
{
    /// <summary>Bits holding the pfn.</summary>
    public const ulong PfnMask = (1ul << 52) - 1;

    /// <summary>Bits 59..52, which must be zero.</summary>
    public const ulong ReservedMask = 0xFFul << 52;

    /// <summary>Shift of the 4-bit type.</summary>
    public const int TypeShift = 60;

    /// <summary>The type of a word.</summary>
    public static PageType TypeOf(ulong word) => (PageType)(word >> TypeShift);

    /// <summary>The pfn of a word.</summary>
    public static ulong PfnOf(ulong word) => word & PfnMask;

    /// <summary>The spec name of a page type (the low four bits of its type nibble).</summary>
    public static string TypeName(PageType type) => TypeNames[(int)type & 0xF];

    private static readonly string[] TypeNames =
    [
        "NOTAB", "L1TAB", "L2TAB", "L3TAB", "L4TAB", "INVALID5", "INVALID6", "INVALID7", "INVALID8",
        "L1TAB_PIN", "L2TAB_PIN", "L3TAB_PIN", "L4TAB_PIN", "BROKEN", "XALLOC", "XTAB",
    ];

    /// <summary>Makes a word from a pfn and a type.</summary>
    public static ulong Make(ulong pfn, PageType type) => (pfn & PfnMask) | ((ulong)type << TypeShift);

    /// <summary>Types 5..8 are invalid.</summary>
    public static bool IsValidType(PageType type) => type is < PageType.Invalid5 or > PageType.Invalid8;

    /// <summary>Whether a page of this type carries 4096 bytes of data: <c>(type &amp; 7) &lt;= 4</c>, excluding 5..8.</summary>
    public static bool HasData(PageType type) => IsValidType(type) && ((byte)type & 7) <= 4;

    /// <summary>Whether a page of this type is populated (allocated) on restore.</summary>
    public static bool IsPopulated(PageType type) => HasData(type) || type == PageType.XAlloc;
}

/// <summary>Fixed sizes of libxc record bodies (FORMATS.md 4.1, 12).</summary>
public static class LibxcBodySizes
{
    /// <summary>PAGE_DATA / POSTCOPY_PFNS header: u32 count, u32 reserved.</summary>
    public const int PageDataHeader = 8;
    /// <summary>One pfn word.</summary>
    public const int PfnWord = 8;
    /// <summary>X86_PV_INFO body.</summary>
    public const int X86PvInfo = 8;
    /// <summary>X86_PV_P2M_FRAMES header: u32 start_pfn, u32 end_pfn.</summary>
    public const int P2mFramesHeader = 8;
    /// <summary>X86_PV_VCPU_* header: u32 vcpu_id, u32 reserved.</summary>
    public const int VcpuHeader = 8;
    /// <summary>SHARED_INFO body.</summary>
    public const int SharedInfo = 4096;
    /// <summary>X86_TSC_INFO body.</summary>
    public const int TscInfo = 24;
    /// <summary>HVM_PARAMS header: u32 count, u32 reserved.</summary>
    public const int HvmParamsHeader = 8;
    /// <summary>One HVM_PARAMS entry: u64 index, u64 value.</summary>
    public const int HvmParamsEntry = 16;
    /// <summary>xen_cpuid_leaf_t: leaf, subleaf, a, b, c, d.</summary>
    public const int CpuidLeaf = StreamBench.X86.CpuidLeaf.Size;
    /// <summary>xen_msr_entry_t: idx, flags, val.</summary>
    public const int MsrEntry = StreamBench.X86.MsrPolicyEntry.Size;
    /// <summary>xen_domctl_vcpu_msr_t: index, reserved, value.</summary>
    public const int VcpuMsr = 16;
    /// <summary>sizeof(vcpu_guest_context_x86_64).</summary>
    public const int VcpuGuestContext64 = 5168;
    /// <summary>sizeof(vcpu_guest_context_x86_32).</summary>
    public const int VcpuGuestContext32 = 2800;
    /// <summary>The C restore's upper bound on an extended vCPU context.</summary>
    public const int VcpuExtendedMax = 128;
    /// <summary>The C restore's lower bound on xsave state: xcr0 and xcr0_accum.</summary>
    public const int VcpuXsaveMin = 16;
    /// <summary>CPUID subleaf meaning "no subleaf".</summary>
    public const uint CpuidNoSubleaf = StreamBench.X86.CpuidLeaf.NoSubleaf;
}

