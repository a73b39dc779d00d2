namespace StreamBench.Formats.Verification;

/// <summary>
/// The checks of the back channel (COLO, post-copy faults), in catalog order. Every check is a typed value: the verifier reports it, the restore engine
/// refuses with it (<see cref="StreamFormatException.Check"/>), and a misspelt name does not compile.
/// </summary>
public static class BackChannelChecks
{
    public static readonly VerificationCheck RecordType = new("back-channel.record-type", ProfileSet.All, FindingSeverity.Error,
        "Only CHECKPOINT_STATE and CHECKPOINT_DIRTY_PFN_LIST (RFC: also POSTCOPY_FAULT, POSTCOPY_COMPLETE) travel on the back channel.",
        "FORMATS.md 2.4, 9; C libxl stream_read back_channel");
    public static readonly VerificationCheck DirtyPfnListLength = new("back-channel.dirty-pfn-list.length", ProfileSet.All, FindingSeverity.Error,
        "CHECKPOINT_DIRTY_PFN_LIST is a multiple of 8 bytes (u64 pfns).", "FORMATS.md 4.1");
    public static readonly VerificationCheck Padding = new("back-channel.padding", ProfileSet.All, FindingSeverity.Error,
        "Record padding bytes are zero.", "spec 2.2");

    /// <summary>Every check of this class, in declaration order (an explicit list: no reflection, trim-safe).</summary>
    internal static VerificationCheck[] InOrder =>
    [
        RecordType,
        DirtyPfnListLength,
        Padding,
    ];
}
