using StreamBench.Formats.Verification;

namespace StreamBench.Engine.Restore;

/// <summary>
/// The checks a restore refuses with beyond the verifier's catalog. Every refusal carries its check in
/// <see cref="Formats.StreamFormatException.Check"/> (and its id, in brackets, at the end of the message). Where the
/// verifier has the same check, the engine uses the verifier's (the <c>*Checks</c> classes of
/// StreamBench.Formats.Verification, docs/VERIFIER.md); the checks only a restore can make (they need the domain)
/// are here, with ids starting with "restore.", and no verifier profile makes them.
/// </summary>
public static class RestoreChecks
{
    /// <summary>A domain-dependent check: the stream's domain type differs from the domain being restored into.</summary>
    public static readonly VerificationCheck DomainTypeMismatch = new("restore.domain-type", ProfileSet.None, FindingSeverity.Error,
        "A domain-dependent check: the stream's domain type differs from the domain being restored into.", "restore engine");

    /// <summary>X86_PV_VCPU_* names a vCPU the domain does not have.</summary>
    public static readonly VerificationCheck VcpuIdRange = new("restore.vcpu.id-range", ProfileSet.None, FindingSeverity.Error,
        "X86_PV_VCPU_* names a vCPU the domain does not have.", "restore engine");

    /// <summary>A pfn could not be populated (hole, memory limit).</summary>
    public static readonly VerificationCheck Populate = new("restore.populate", ProfileSet.None, FindingSeverity.Error,
        "A pfn could not be populated (hole, memory limit).", "restore engine");

    /// <summary>A page-table page could not be localised (a PTE names a pfn the domain cannot back).</summary>
    public static readonly VerificationCheck Localise = new("restore.localise", ProfileSet.None, FindingSeverity.Error,
        "A page-table page could not be localised (a PTE names a pfn the domain cannot back).", "restore engine");

    /// <summary>A page type cannot be given to the pfn (an L4 table in a 3-level guest).</summary>
    public static readonly VerificationCheck PageType = new("restore.page-type", ProfileSet.None, FindingSeverity.Error,
        "A page type cannot be given to the pfn (an L4 table in a 3-level guest).", "restore engine");

    /// <summary>X86_PV_INFO does not fit the domain (set_address_size failed).</summary>
    public static readonly VerificationCheck PvInfoDomain = new("restore.pv-info.domain", ProfileSet.None, FindingSeverity.Error,
        "X86_PV_INFO does not fit the domain (set_address_size failed).", "restore engine");

    /// <summary>An HVM param Xen refuses (index at or beyond HVM_NR_PARAMS).</summary>
    public static readonly VerificationCheck HvmParam = new("restore.hvm-param", ProfileSet.None, FindingSeverity.Error,
        "An HVM param Xen refuses (index at or beyond HVM_NR_PARAMS).", "restore engine");

    /// <summary>Xen's hvm_load refuses the HVM_CONTEXT blob.</summary>
    public static readonly VerificationCheck HvmContextLoad = new("restore.hvm-context.load", ProfileSet.None, FindingSeverity.Error,
        "Xen's hvm_load refuses the HVM_CONTEXT blob.", "restore engine");

    /// <summary>An HVM stream without HVM_CONTEXT (setcontext has nothing to load).</summary>
    public static readonly VerificationCheck HvmContextMissing = new("restore.hvm-context.missing", ProfileSet.None, FindingSeverity.Error,
        "An HVM stream without HVM_CONTEXT (setcontext has nothing to load).", "restore engine");

    /// <summary>stream_complete or the final consistency check failed (vCPU state, start_info, p2m frames, ...).</summary>
    public static readonly VerificationCheck StreamComplete = new("restore.stream-complete", ProfileSet.None, FindingSeverity.Error,
        "stream_complete or the final consistency check failed (vCPU state, start_info, p2m frames, ...).", "restore engine");

    /// <summary>The stream has no libxc part (no guest to restore).</summary>
    public static readonly VerificationCheck NoLibxcStream = new("restore.no-libxc-stream", ProfileSet.None, FindingSeverity.Error,
        "The stream has no libxc part (no guest to restore).", "restore engine");

    /// <summary>A second libxc stream (LIBXC_CONTEXT again).</summary>
    public static readonly VerificationCheck SecondLibxcStream = LibxlChecks.LibxcContextDuplicate;

    /// <summary>A checkpoint's buffered records exceed <see cref="RestoreOptions.MaxCheckpointBufferBytes"/>.</summary>
    public static readonly VerificationCheck CheckpointBuffer = new("restore.checkpoint-buffer", ProfileSet.None, FindingSeverity.Error,
        "A checkpoint's buffered records exceed <see cref=\"RestoreOptions.MaxCheckpointBufferBytes\"/>.", "restore engine");

    /// <summary>A post-copy stream broke after the transition with announced pages outstanding: the guest is lost.</summary>
    public static readonly VerificationCheck PostcopyGuestLost = new("restore.postcopy.guest-lost", ProfileSet.None, FindingSeverity.Error,
        "A post-copy stream broke after the transition with announced pages outstanding: the guest is lost.", "restore engine");

    /// <summary>A checkpointed stream broke before its first checkpoint was complete.</summary>
    public static readonly VerificationCheck FailoverBeforeCheckpoint = StreamChecks.FailoverBeforeCheckpoint;

    /// <summary>The input ends on a record boundary without END (plain stream).</summary>
    public static readonly VerificationCheck MissingEnd = StreamChecks.MissingEnd;

    /// <summary>The input ends inside a header, record or padding.</summary>
    public static readonly VerificationCheck Truncated = StreamChecks.Truncated;

    /// <summary>Not a v2/v3 stream.</summary>
    public static readonly VerificationCheck Legacy = StreamChecks.Legacy;

    /// <summary>A post-copy record out of the RFC order (POSTCOPY_BEGIN, its CPU context, POSTCOPY_PFNS_BEGIN, POSTCOPY_PFNS, POSTCOPY_TRANSITION, POSTCOPY_PAGE_DATA).</summary>
    public static readonly VerificationCheck PostcopyOrder = new("restore.postcopy.order", ProfileSet.None, FindingSeverity.Error,
        "A post-copy record out of the RFC order (POSTCOPY_BEGIN, its CPU context, POSTCOPY_PFNS_BEGIN, POSTCOPY_PFNS, POSTCOPY_TRANSITION, POSTCOPY_PAGE_DATA).", "restore engine");

    /// <summary>A pfn sent after the post-copy transition has a type without data.</summary>
    public static readonly VerificationCheck PostcopyPfnType = new("restore.postcopy.pfn-type", ProfileSet.None, FindingSeverity.Error,
        "A pfn sent after the post-copy transition has a type without data.", "restore engine");

    /// <summary>POSTCOPY_PFNS announces a pfn a second time.</summary>
    public static readonly VerificationCheck PostcopyPfnsDuplicate = new("restore.postcopy.pfns-duplicate", ProfileSet.None, FindingSeverity.Error,
        "POSTCOPY_PFNS announces a pfn a second time.", "restore engine");

    /// <summary>POSTCOPY_PAGE_DATA carries a pfn that POSTCOPY_PFNS never announced.</summary>
    public static readonly VerificationCheck PostcopyUnannounced = new("restore.postcopy.unannounced", ProfileSet.None, FindingSeverity.Error,
        "POSTCOPY_PAGE_DATA carries a pfn that POSTCOPY_PFNS never announced.", "restore engine");

    /// <summary>A post-copy page arrives a second time.</summary>
    public static readonly VerificationCheck PostcopyDuplicate = new("restore.postcopy.duplicate", ProfileSet.None, FindingSeverity.Error,
        "A post-copy page arrives a second time.", "restore engine");

    /// <summary>The post-copy phase ended with announced pages still outstanding.</summary>
    public static readonly VerificationCheck PostcopyIncomplete = new("restore.postcopy.incomplete", ProfileSet.None, FindingSeverity.Error,
        "The post-copy phase ended with announced pages still outstanding.", "restore engine");

    /// <summary>A COLO restore of a stream without the libxl layer (CHECKPOINT_END and CHECKPOINT_STATE are libxl records).</summary>
    public static readonly VerificationCheck ColoLibxl = new("restore.colo.libxl", ProfileSet.None, FindingSeverity.Error,
        "A COLO restore of a stream without the libxl layer (CHECKPOINT_END and CHECKPOINT_STATE are libxl records).", "restore engine");

    /// <summary>POSTCOPY_PFNS is shorter than its header or its length is not 8 + 8 x count (the engine's id; the verifier checks this as part of its post-copy rules).</summary>
    public static readonly VerificationCheck PostcopyPfnsLength = new("postcopy.pfns.length", ProfileSet.None, FindingSeverity.Error,
        "POSTCOPY_PFNS is shorter than its header or its length is not 8 + 8 x count (the engine's id; the verifier checks this as part of its post-copy rules).", "restore engine");
}
