namespace StreamBench.Formats.Verification;

/// <summary>
/// The checks of the back channel (COLO, post-copy faults), in catalog order. Every check is a typed value: the verifier reports it, the restore
/// engine refuses with it (<see cref="StreamFormatException.Check"/>), and a misspelt name does not compile.
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
    public static readonly VerificationCheck ColoOrder = new("back-channel.colo.order", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "The secondary's messages follow the seed's loop: SVM_READY, SVM_RESUMED, then per checkpoint SVM_SUSPENDED, CHECKPOINT_DIRTY_PFN_LIST, SVM_READY, SVM_RESUMED.",
        "libxl CHECKPOINT_STATE spec (secondary loop); libxl_colo_save.c (\"invalid section\"); xg_sr_save.c colo_merge_secondary_dirty_bitmap");
    public static readonly VerificationCheck ColoCheckpointNew = new("back-channel.colo.checkpoint-new", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "CHECKPOINT_NEW travels primary → secondary on the main stream, never on the back channel.",
        "libxl CHECKPOINT_STATE spec (control_id 0: Primary -> Secondary)");
}
