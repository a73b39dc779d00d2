using System.Globalization;

namespace StreamBench.Formats.Wire;

/// <summary>Spec names of record types (the names Xen's documents and tools print), per layer and dialect.</summary>
public static class RecordNames
{
    private static readonly string[] LibxcUpstream =
    [
        "END", "PAGE_DATA", "X86_PV_INFO", "X86_PV_P2M_FRAMES", "X86_PV_VCPU_BASIC", "X86_PV_VCPU_EXTENDED",
        "X86_PV_VCPU_XSAVE", "SHARED_INFO", "X86_TSC_INFO", "HVM_CONTEXT", "HVM_PARAMS", "TOOLSTACK",
        "X86_PV_VCPU_MSRS", "VERIFY", "CHECKPOINT", "CHECKPOINT_DIRTY_PFN_LIST", "STATIC_DATA_END",
        "X86_CPUID_POLICY", "X86_MSR_POLICY",
    ];

    private static readonly string[] PostcopyNames =
    [
        "POSTCOPY_BEGIN", "POSTCOPY_PFNS_BEGIN", "POSTCOPY_PFNS", "POSTCOPY_TRANSITION", "POSTCOPY_PAGE_DATA",
        "POSTCOPY_FAULT", "POSTCOPY_COMPLETE",
    ];

    private static readonly string[] LibxlNames =
    [
        "END", "LIBXC_CONTEXT", "EMULATOR_XENSTORE_DATA", "EMULATOR_CONTEXT", "CHECKPOINT_END", "CHECKPOINT_STATE",
    ];

    /// <summary>Whether <paramref name="type"/> is a libxc record this dialect defines.</summary>
    public static bool IsKnownLibxc(uint type, StreamDialect dialect) => dialect == StreamDialect.PostcopyRfc
        ? type <= (uint)PostcopyRecordType.PostcopyComplete
        : type <= (uint)LibxcRecordType.X86MsrPolicy;

    /// <summary>Whether <paramref name="type"/> is a libxl record this dialect defines.</summary>
    public static bool IsKnownLibxl(uint type, StreamDialect dialect) => dialect == StreamDialect.PostcopyRfc
        ? type <= (uint)LibxlPostcopyRecordType.PostcopyTransitionEnd
        : type <= (uint)LibxlRecordType.CheckpointState;

    /// <summary>The libxc type's name in <paramref name="dialect"/>.</summary>
    public static string Libxc(uint type, StreamDialect dialect)
    {
        if (dialect == StreamDialect.PostcopyRfc && type >= (uint)PostcopyRecordType.PostcopyBegin && type <= (uint)PostcopyRecordType.PostcopyComplete)
        {
            return PostcopyNames[type - (uint)PostcopyRecordType.PostcopyBegin];
        }
        if (dialect == StreamDialect.Upstream && type < (uint)LibxcNamesLength)
        {
            return LibxcUpstream[type];
        }
        if (dialect == StreamDialect.PostcopyRfc && type < (uint)LibxcRecordType.StaticDataEnd)
        {
            return LibxcUpstream[type];
        }
        return Unknown(type);
    }

    /// <summary>The libxl type's name in <paramref name="dialect"/>.</summary>
    public static string Libxl(uint type, StreamDialect dialect)
    {
        if (type < (uint)LibxlNames.Length)
        {
            return LibxlNames[type];
        }
        if (dialect == StreamDialect.PostcopyRfc && type == (uint)LibxlPostcopyRecordType.PostcopyTransitionEnd)
        {
            return "POSTCOPY_TRANSITION_END";
        }
        return Unknown(type);
    }

    private static readonly string[] PageTypeNames =
    [
        "NOTAB", "L1TAB", "L2TAB", "L3TAB", "L4TAB", "INVALID5", "INVALID6", "INVALID7", "INVALID8",
        "L1TAB_PIN", "L2TAB_PIN", "L3TAB_PIN", "L4TAB_PIN", "BROKEN", "XALLOC", "XTAB",
    ];

    /// <summary>The spec name of a PAGE_DATA page type (the low four bits of its type nibble).</summary>
    public static string PageTypeName(PageType type) => PageTypeNames[(int)type & 0xF];

    private static int LibxcNamesLength => LibxcUpstream.Length;

    private static string Unknown(uint type) => string.Create(CultureInfo.InvariantCulture,
        $"{(Framing.IsOptional(type) ? "UNKNOWN_OPTIONAL" : "UNKNOWN")}_0x{type:x8}");
}
