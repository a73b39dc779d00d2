using System.Globalization;
using StreamBench.Formats.Streams;

namespace StreamBench.Formats.Wire;

/// <summary>Which guest kinds may carry a record (FORMATS.md 4.1). PVH streams are HVM streams on the wire.</summary>
[Flags]
public enum GuestKinds : byte
{
    /// <summary>No guest.</summary>
    None = 0,
    /// <summary>x86 PV guests (domain header type x86_pv).</summary>
    Pv = 1 << 0,
    /// <summary>x86 HVM guests (domain header type x86_hvm).</summary>
    Hvm = 1 << 1,
    /// <summary>x86 PVH guests (also domain header type x86_hvm).</summary>
    Pvh = 1 << 2,
    /// <summary>Every guest: a common record.</summary>
    Any = Pv | Hvm | Pvh,
}

/// <summary>
/// The shape of a record body: which typed decoder of <c>StreamBench.Formats.Records</c> reads it, and so which
/// describer prints it. Several record types share a shape (the four PV vCPU records, PAGE_DATA and
/// POSTCOPY_PAGE_DATA).
/// </summary>
public enum RecordBodyShape
{
    /// <summary>No body (END, VERIFY, CHECKPOINT, STATIC_DATA_END, the RFC's empty markers, LIBXC_CONTEXT...).</summary>
    Empty,
    /// <summary>PAGE_DATA layout with pages (<c>PageDataBody</c>): PAGE_DATA, POSTCOPY_PAGE_DATA.</summary>
    PageData,
    /// <summary>PAGE_DATA layout without page contents (<c>PageDataBody</c>): POSTCOPY_PFNS.</summary>
    PfnWords,
    /// <summary>count, reserved, then bare pfns (<c>PfnListBody</c>): POSTCOPY_FAULT.</summary>
    PfnList,
    /// <summary>X86_PV_INFO (<c>X86PvInfoBody</c>).</summary>
    X86PvInfo,
    /// <summary>X86_PV_P2M_FRAMES (<c>P2mFramesBody</c>).</summary>
    P2mFrames,
    /// <summary>vcpu_id, reserved, then a context blob (<c>PvVcpuBody</c>): the X86_PV_VCPU_* records.</summary>
    PvVcpu,
    /// <summary>A fixed-size opaque blob printed by its size: SHARED_INFO, TOOLSTACK.</summary>
    Opaque,
    /// <summary>X86_TSC_INFO (<c>TscInfoBody</c>).</summary>
    TscInfo,
    /// <summary>Xen's HVM save blob (<c>HvmContextWalker</c>).</summary>
    HvmContext,
    /// <summary>HVM_PARAMS (<c>HvmParamsBody</c>).</summary>
    HvmParams,
    /// <summary>X86_CPUID_POLICY (<c>CpuidPolicyBody</c>).</summary>
    CpuidPolicy,
    /// <summary>X86_MSR_POLICY (<c>MsrPolicyBody</c>).</summary>
    MsrPolicy,
    /// <summary>CHECKPOINT_DIRTY_PFN_LIST (<c>DirtyPfnListBody</c>).</summary>
    DirtyPfnList,
    /// <summary>EMULATOR_XENSTORE_DATA (<c>EmulatorBody</c> and <c>XenstorePairReader</c>).</summary>
    EmulatorXenstoreData,
    /// <summary>EMULATOR_CONTEXT (<c>EmulatorBody</c>).</summary>
    EmulatorContext,
    /// <summary>CHECKPOINT_STATE (<c>CheckpointStateBody</c>).</summary>
    CheckpointState,
}

/// <summary>One record type of one dialect: what the dictionary knows about it.</summary>
public sealed class RecordDefinition
{
    internal RecordDefinition(StreamLayer layer, uint type, string name, GuestKinds guests, RecordBodyShape body)
    {
        Layer = layer;
        Type = type;
        Name = name;
        Guests = guests;
        Body = body;
    }

    /// <summary>The layer that defines the type (<see cref="StreamLayer.Libxl"/> or <see cref="StreamLayer.Libxc"/>).</summary>
    public StreamLayer Layer { get; }

    /// <summary>The type number (the enum value in this folder's layer file).</summary>
    public uint Type { get; }

    /// <summary>The spec's name, as Xen's documents and tools print it.</summary>
    public string Name { get; }

    /// <summary>The guest kinds whose streams may carry it.</summary>
    public GuestKinds Guests { get; }

    /// <summary>The body's shape (decoder and describer).</summary>
    public RecordBodyShape Body { get; }

    /// <summary>Whether the type is optional (bit 31). Every type the specs define so far is mandatory.</summary>
    public bool IsOptional => Framing.IsOptional(Type);

    /// <summary>Whether only some guest kinds may carry it (a PV record, an HVM record).</summary>
    public bool IsGuestSpecific => Guests != GuestKinds.Any;

    /// <summary>Whether a stream whose domain header says <paramref name="domain"/> may carry it.</summary>
    public bool IsCarriedBy(DomainType domain) => domain switch
    {
        DomainType.X86Pv => (Guests & GuestKinds.Pv) != 0,
        DomainType.X86Hvm => (Guests & (GuestKinds.Hvm | GuestKinds.Pvh)) != 0,
        _ => true,
    };

    /// <summary>"PV" or "HVM": the guest kind a guest-specific record belongs to, as error messages name it.</summary>
    public string GuestLabel => (Guests & GuestKinds.Pv) != 0 ? "PV" : "HVM";

    /// <summary>Whether the body starts with a PAGE_DATA-like header (count, reserved) followed by pfn words.</summary>
    public bool HasPfnWords => Body is RecordBodyShape.PageData or RecordBodyShape.PfnWords or RecordBodyShape.PfnList;
}

/// <summary>
/// The record types of one layer in one dialect (FORMATS.md 2.3, 4.1, 9): name, layer, the guest kinds that may
/// carry each, and its body shape. The one table of record types; the numbers themselves are the enums of this
/// folder (<see cref="LibxcRecordType"/>, <see cref="PostcopyRecordType"/>, <see cref="LibxlRecordType"/>,
/// <see cref="LibxlPostcopyRecordType"/>).
/// </summary>
public sealed class RecordDictionary
{
    private const GuestKinds Pv = GuestKinds.Pv;
    private const GuestKinds Hvm = GuestKinds.Hvm | GuestKinds.Pvh;
    private const GuestKinds Any = GuestKinds.Any;

    private static readonly RecordDefinition[] LibxcCommon =
    [
        Xc(LibxcRecordType.End, "END", Any, RecordBodyShape.Empty),
        Xc(LibxcRecordType.PageData, "PAGE_DATA", Any, RecordBodyShape.PageData),
        Xc(LibxcRecordType.X86PvInfo, "X86_PV_INFO", Pv, RecordBodyShape.X86PvInfo),
        Xc(LibxcRecordType.X86PvP2mFrames, "X86_PV_P2M_FRAMES", Pv, RecordBodyShape.P2mFrames),
        Xc(LibxcRecordType.X86PvVcpuBasic, "X86_PV_VCPU_BASIC", Pv, RecordBodyShape.PvVcpu),
        Xc(LibxcRecordType.X86PvVcpuExtended, "X86_PV_VCPU_EXTENDED", Pv, RecordBodyShape.PvVcpu),
        Xc(LibxcRecordType.X86PvVcpuXsave, "X86_PV_VCPU_XSAVE", Pv, RecordBodyShape.PvVcpu),
        Xc(LibxcRecordType.SharedInfo, "SHARED_INFO", Pv, RecordBodyShape.Opaque),
        Xc(LibxcRecordType.X86TscInfo, "X86_TSC_INFO", Any, RecordBodyShape.TscInfo),
        Xc(LibxcRecordType.HvmContext, "HVM_CONTEXT", Hvm, RecordBodyShape.HvmContext),
        Xc(LibxcRecordType.HvmParams, "HVM_PARAMS", Hvm, RecordBodyShape.HvmParams),
        Xc(LibxcRecordType.Toolstack, "TOOLSTACK", Any, RecordBodyShape.Opaque),
        Xc(LibxcRecordType.X86PvVcpuMsrs, "X86_PV_VCPU_MSRS", Pv, RecordBodyShape.PvVcpu),
        Xc(LibxcRecordType.Verify, "VERIFY", Any, RecordBodyShape.Empty),
        Xc(LibxcRecordType.Checkpoint, "CHECKPOINT", Any, RecordBodyShape.Empty),
        Xc(LibxcRecordType.CheckpointDirtyPfnList, "CHECKPOINT_DIRTY_PFN_LIST", Any, RecordBodyShape.DirtyPfnList),
    ];

    private static readonly RecordDefinition[] LibxcV3 =
    [
        Xc(LibxcRecordType.StaticDataEnd, "STATIC_DATA_END", Any, RecordBodyShape.Empty),
        Xc(LibxcRecordType.X86CpuidPolicy, "X86_CPUID_POLICY", Any, RecordBodyShape.CpuidPolicy),
        Xc(LibxcRecordType.X86MsrPolicy, "X86_MSR_POLICY", Any, RecordBodyShape.MsrPolicy),
    ];

    private static readonly RecordDefinition[] LibxcPostcopy =
    [
        Rfc(PostcopyRecordType.PostcopyBegin, "POSTCOPY_BEGIN", RecordBodyShape.Empty),
        Rfc(PostcopyRecordType.PostcopyPfnsBegin, "POSTCOPY_PFNS_BEGIN", RecordBodyShape.Empty),
        Rfc(PostcopyRecordType.PostcopyPfns, "POSTCOPY_PFNS", RecordBodyShape.PfnWords),
        Rfc(PostcopyRecordType.PostcopyTransition, "POSTCOPY_TRANSITION", RecordBodyShape.Empty),
        Rfc(PostcopyRecordType.PostcopyPageData, "POSTCOPY_PAGE_DATA", RecordBodyShape.PageData),
        Rfc(PostcopyRecordType.PostcopyFault, "POSTCOPY_FAULT", RecordBodyShape.PfnList),
        Rfc(PostcopyRecordType.PostcopyComplete, "POSTCOPY_COMPLETE", RecordBodyShape.Empty),
    ];

    private static readonly RecordDefinition[] LibxlRecords =
    [
        Xl((uint)LibxlRecordType.End, "END", RecordBodyShape.Empty),
        Xl((uint)LibxlRecordType.LibxcContext, "LIBXC_CONTEXT", RecordBodyShape.Empty),
        Xl((uint)LibxlRecordType.EmulatorXenstoreData, "EMULATOR_XENSTORE_DATA", RecordBodyShape.EmulatorXenstoreData),
        Xl((uint)LibxlRecordType.EmulatorContext, "EMULATOR_CONTEXT", RecordBodyShape.EmulatorContext),
        Xl((uint)LibxlRecordType.CheckpointEnd, "CHECKPOINT_END", RecordBodyShape.Empty),
        Xl((uint)LibxlRecordType.CheckpointState, "CHECKPOINT_STATE", RecordBodyShape.CheckpointState),
    ];

    private static readonly RecordDefinition LibxlTransitionEnd =
        Xl((uint)LibxlPostcopyRecordType.PostcopyTransitionEnd, "POSTCOPY_TRANSITION_END", RecordBodyShape.Empty);

    /// <summary>Upstream libxc, v2 and v3: 0x00..0x12.</summary>
    public static RecordDictionary LibxcUpstream { get; } = new(StreamLayer.Libxc, "0x00..0x12", [.. LibxcCommon, .. LibxcV3]);

    /// <summary>The post-copy RFC's libxc: upstream v2's 0x00..0x0F, then the RFC's 0x10..0x16.</summary>
    public static RecordDictionary LibxcPostcopyRfc { get; } =
        new(StreamLayer.Libxc, "0x00..0x0F and the RFC's 0x10..0x16", [.. LibxcCommon, .. LibxcPostcopy]);

    /// <summary>Upstream libxl: 0..5.</summary>
    public static RecordDictionary LibxlUpstream { get; } = new(StreamLayer.Libxl, "0..5", LibxlRecords);

    /// <summary>The post-copy RFC's libxl: upstream's 0..5, then POSTCOPY_TRANSITION_END (6).</summary>
    public static RecordDictionary LibxlPostcopyRfc { get; } =
        new(StreamLayer.Libxl, "0..6", [.. LibxlRecords, LibxlTransitionEnd]);

    /// <summary>
    /// The back channel (receiver → sender): only what travels on it, libxl's CHECKPOINT_STATE (5) and libxc's
    /// CHECKPOINT_DIRTY_PFN_LIST (0x0f), and in the RFC dialect POSTCOPY_FAULT (0x15) and POSTCOPY_COMPLETE (0x16). Each
    /// entry's <see cref="RecordDefinition.Layer"/> is its owner. Any other number is UNKNOWN: on the back channel it is
    /// neither layer's record (type 2 would be libxl's EMULATOR_XENSTORE_DATA to the one reader, libxc's X86_PV_INFO to
    /// the other), and no reader of a back channel accepts it.
    /// </summary>
    public static RecordDictionary BackChannel(StreamDialect dialect) => dialect == StreamDialect.PostcopyRfc
        ? BackChannelPostcopyRfc
        : BackChannelUpstream;

    private static readonly RecordDictionary BackChannelUpstream = BackChannelOf(LibxcUpstream, "5, 0x0f");

    private static readonly RecordDictionary BackChannelPostcopyRfc = BackChannelOf(LibxcPostcopyRfc, "5, 0x0f, 0x15, 0x16");

    private readonly RecordDefinition?[] _byType;

    private RecordDictionary(StreamLayer layer, string knownRange, RecordDefinition[] records)
    {
        Layer = layer;
        KnownRange = knownRange;
        Records = records;
        _byType = new RecordDefinition?[records.Max(r => r.Type) + 1];
        foreach (var r in records)
        {
            _byType[r.Type] = r;
        }
    }

    /// <summary>The layer whose records these are (<see cref="StreamLayer.BackChannel"/> for the mixed back channel).</summary>
    public StreamLayer Layer { get; }

    /// <summary>The known types as error messages name them ("0x00..0x12", "0..5").</summary>
    public string KnownRange { get; }

    /// <summary>Every type of the dictionary, in type order.</summary>
    public IReadOnlyList<RecordDefinition> Records { get; }

    /// <summary>The dictionary of <paramref name="layer"/> (libxl, libxc or the back channel) in <paramref name="dialect"/>.</summary>
    public static RecordDictionary For(StreamLayer layer, StreamDialect dialect) => layer switch
    {
        StreamLayer.Libxl => Libxl(dialect),
        StreamLayer.BackChannel => BackChannel(dialect),
        _ => Libxc(dialect),
    };

    /// <summary>The libxc dictionary of <paramref name="dialect"/>.</summary>
    public static RecordDictionary Libxc(StreamDialect dialect) => dialect == StreamDialect.PostcopyRfc ? LibxcPostcopyRfc : LibxcUpstream;

    /// <summary>The libxl dictionary of <paramref name="dialect"/>.</summary>
    public static RecordDictionary Libxl(StreamDialect dialect) => dialect == StreamDialect.PostcopyRfc ? LibxlPostcopyRfc : LibxlUpstream;

    /// <summary>The definition of <paramref name="type"/>, or null when this dictionary does not define it.</summary>
    public RecordDefinition? Find(uint type) => type < (uint)_byType.Length ? _byType[type] : null;

    /// <summary>Whether this dictionary defines <paramref name="type"/>.</summary>
    public bool IsKnown(uint type) => Find(type) is not null;

    /// <summary>The spec name of <paramref name="type"/>, or <c>UNKNOWN_0x...</c> / <c>UNKNOWN_OPTIONAL_0x...</c>.</summary>
    public string Name(uint type) => Find(type)?.Name ?? UnknownName(type);

    /// <summary>The layer that owns <paramref name="type"/> (for the back channel, libxl or libxc; unknown types are libxc's).</summary>
    public StreamLayer OwnerOf(uint type) => Find(type)?.Layer ?? (Layer == StreamLayer.Libxl ? StreamLayer.Libxl : StreamLayer.Libxc);

    /// <summary>The name of a type no dictionary defines.</summary>
    public static string UnknownName(uint type) => string.Create(CultureInfo.InvariantCulture,
        $"{(Framing.IsOptional(type) ? "UNKNOWN_OPTIONAL" : "UNKNOWN")}_0x{type:x8}");

    private static RecordDictionary BackChannelOf(RecordDictionary libxc, string knownRange)
    {
        var state = LibxlUpstream.Find((uint)LibxlRecordType.CheckpointState)!;
        var records = libxc.Records
            .Where(r => r.Type is (uint)LibxcRecordType.CheckpointDirtyPfnList
                or (uint)PostcopyRecordType.PostcopyFault or (uint)PostcopyRecordType.PostcopyComplete)
            .Prepend(state).OrderBy(r => r.Type).ToArray();
        return new RecordDictionary(StreamLayer.BackChannel, knownRange, records);
    }

    private static RecordDefinition Xc(LibxcRecordType type, string name, GuestKinds guests, RecordBodyShape body) =>
        new(StreamLayer.Libxc, (uint)type, name, guests, body);

    private static RecordDefinition Rfc(PostcopyRecordType type, string name, RecordBodyShape body) =>
        new(StreamLayer.Libxc, (uint)type, name, Any, body);

    private static RecordDefinition Xl(uint type, string name, RecordBodyShape body) =>
        new(StreamLayer.Libxl, type, name, Any, body);
}
