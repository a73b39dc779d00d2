namespace StreamBench.Engine.Restore;

/// <summary>
/// The identifiers a restore failure ends with (in brackets), so a caller or test can tell the checks apart. Where
/// the verifier has the same check, the id is the verifier's (docs/VERIFIER.md); the checks only a restore can make
/// (they need the domain) start with "restore.".
/// </summary>
public static class RestoreChecks
{
    /// <summary>A domain-dependent check: the stream's domain type differs from the domain being restored into.</summary>
    public const string DomainTypeMismatch = "restore.domain-type";

    /// <summary>X86_PV_VCPU_* names a vCPU the domain does not have.</summary>
    public const string VcpuIdRange = "restore.vcpu.id-range";

    /// <summary>A pfn could not be populated (hole, memory limit).</summary>
    public const string Populate = "restore.populate";

    /// <summary>A page-table page could not be localised (a PTE names a pfn the domain cannot back).</summary>
    public const string Localise = "restore.localise";

    /// <summary>A page type cannot be given to the pfn (an L4 table in a 3-level guest).</summary>
    public const string PageType = "restore.page-type";

    /// <summary>X86_PV_INFO does not fit the domain (set_address_size failed).</summary>
    public const string PvInfoDomain = "restore.pv-info.domain";

    /// <summary>An HVM param Xen refuses (index at or beyond HVM_NR_PARAMS).</summary>
    public const string HvmParam = "restore.hvm-param";

    /// <summary>Xen's hvm_load refuses the HVM_CONTEXT blob.</summary>
    public const string HvmContextLoad = "restore.hvm-context.load";

    /// <summary>An HVM stream without HVM_CONTEXT (setcontext has nothing to load).</summary>
    public const string HvmContextMissing = "restore.hvm-context.missing";

    /// <summary>stream_complete or the final consistency check failed (vCPU state, start_info, p2m frames, ...).</summary>
    public const string StreamComplete = "restore.stream-complete";

    /// <summary>The stream has no libxc part (no guest to restore).</summary>
    public const string NoLibxcStream = "restore.no-libxc-stream";

    /// <summary>A second libxc stream (LIBXC_CONTEXT again).</summary>
    public const string SecondLibxcStream = "libxl.libxc-context.duplicate";

    /// <summary>A checkpoint's buffered records exceed <see cref="RestoreOptions.MaxCheckpointBufferBytes"/>.</summary>
    public const string CheckpointBuffer = "restore.checkpoint-buffer";

    /// <summary>A post-copy stream broke after the transition with announced pages outstanding: the guest is lost.</summary>
    public const string PostcopyGuestLost = "restore.postcopy.guest-lost";

    /// <summary>A checkpointed stream broke before its first checkpoint was complete.</summary>
    public const string FailoverBeforeCheckpoint = "stream.failover-before-checkpoint";

    /// <summary>The input ends on a record boundary without END (plain stream).</summary>
    public const string MissingEnd = "stream.missing-end";

    /// <summary>The input ends inside a header, record or padding.</summary>
    public const string Truncated = "stream.truncated";

    /// <summary>Not a v2/v3 stream.</summary>
    public const string Legacy = "stream.legacy";
}
