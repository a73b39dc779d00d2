namespace StreamBench.Formats.Verification;

/// <summary>
/// The checks of the post-copy RFC dialect, in catalog order. Every check is a typed value: the verifier reports it, the restore engine
/// refuses with it (<see cref="StreamFormatException.Check"/>), and a misspelt name does not compile.
/// </summary>
public static class PostcopyChecks
{
    public static readonly VerificationCheck BeginLength = new("postcopy.begin.length", ProfileSet.All, FindingSeverity.Error,
        "POSTCOPY_BEGIN has an empty body.", "FORMATS.md 9");
    public static readonly VerificationCheck PfnsBeginLength = new("postcopy.pfns-begin.length", ProfileSet.All, FindingSeverity.Error,
        "POSTCOPY_PFNS_BEGIN has an empty body.", "FORMATS.md 9");
    public static readonly VerificationCheck TransitionLength = new("postcopy.transition.length", ProfileSet.All, FindingSeverity.Error,
        "POSTCOPY_TRANSITION has an empty body.", "FORMATS.md 9");
    public static readonly VerificationCheck CompleteLength = new("postcopy.complete.length", ProfileSet.All, FindingSeverity.Error,
        "POSTCOPY_COMPLETE has an empty body.", "FORMATS.md 9");
    public static readonly VerificationCheck PageDataType = new("postcopy.page-data.type", ProfileSet.All, FindingSeverity.Error,
        "POSTCOPY_PAGE_DATA carries no XTAB, BROKEN or XALLOC pfns.", "FORMATS.md 9");
    public static readonly VerificationCheck FaultTypeBits = new("postcopy.fault.type-bits", ProfileSet.All, FindingSeverity.Error,
        "POSTCOPY_FAULT's words are bare pfns (bits 52..63 clear).", "FORMATS.md 9");
    public static readonly VerificationCheck BackChannelOnly = new("postcopy.back-channel-only", ProfileSet.All, FindingSeverity.Error,
        "POSTCOPY_FAULT and POSTCOPY_COMPLETE travel destination → source, never in the main stream.", "FORMATS.md 9");
    public static readonly VerificationCheck OrderBegin = new("postcopy.order.begin", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "There is one POSTCOPY_BEGIN, after the pre-copy pages.", "FORMATS.md 9");
    public static readonly VerificationCheck OrderPfnsBegin = new("postcopy.order.pfns-begin", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "POSTCOPY_PFNS_BEGIN follows POSTCOPY_BEGIN and the CPU context records, once.", "FORMATS.md 9");
    public static readonly VerificationCheck OrderPfns = new("postcopy.order.pfns", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "POSTCOPY_PFNS appears between POSTCOPY_PFNS_BEGIN and POSTCOPY_TRANSITION.", "FORMATS.md 9");
    public static readonly VerificationCheck OrderTransition = new("postcopy.order.transition", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "POSTCOPY_TRANSITION follows POSTCOPY_PFNS_BEGIN (and its PFNS), once.", "FORMATS.md 9");
    public static readonly VerificationCheck OrderPageData = new("postcopy.order.page-data", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "POSTCOPY_PAGE_DATA appears only after the transition (and, in libxl streams, POSTCOPY_TRANSITION_END).", "FORMATS.md 9");
    public static readonly VerificationCheck OrderPhaseRecord = new("postcopy.order.phase-record", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "After POSTCOPY_BEGIN only the CPU context records, then PFNS, then POSTCOPY_PAGE_DATA and END appear (no PAGE_DATA).", "FORMATS.md 9");
    public static readonly VerificationCheck OrderIncomplete = new("postcopy.order.incomplete", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "A stream that began post-copy reaches the post-copy phase before END.", "FORMATS.md 9");
    public static readonly VerificationCheck Unannounced = new("postcopy.page-data.unannounced", ProfileSet.Strict, FindingSeverity.Error,
        "Every POSTCOPY_PAGE_DATA pfn was announced in a POSTCOPY_PFNS record.", "FORMATS.md 9");
    public static readonly VerificationCheck TrackingLimit = new("postcopy.page-data.tracking-limit", ProfileSet.Strict, FindingSeverity.Info,
        "The announced-pfn set reached its memory cap; later announcements are not checked.", "docs/VERIFIER.md (bounded memory)");
}
