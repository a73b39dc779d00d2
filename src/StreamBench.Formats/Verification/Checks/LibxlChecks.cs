namespace StreamBench.Formats.Verification;

/// <summary>
/// The checks of the libxl v2 stream, in catalog order. Every check is a typed value: the verifier reports it, the restore engine
/// refuses with it (<see cref="StreamFormatException.Check"/>), and a misspelt name does not compile.
/// </summary>
public static class LibxlChecks
{
    public static readonly VerificationCheck Ident = new("libxl.header.ident", ProfileSet.All, FindingSeverity.Error,
        "The libxl header starts with the ident \"LibxlFmt\".", "verify 3; C libxl_stream_read.c", fatal: true);
    public static readonly VerificationCheck Version = new("libxl.header.version", ProfileSet.All, FindingSeverity.Error,
        "The libxl header version is 2.", "verify 4; C");
    public static readonly VerificationCheck Options = new("libxl.header.options", ProfileSet.All, FindingSeverity.Error,
        "Reserved option bits 2..31 are zero (verify-stream-v2 masks only 2..15: a bug not copied).", "verify 5 (fixed); spec 2.1");
    public static readonly VerificationCheck BigEndianIgnored = new("libxl.header.big-endian-ignored", ProfileSet.Xen, FindingSeverity.Warning,
        "The endianness bit is set; verify-stream-v2's check is dead code, so it accepts the stream and reads it as little-endian.", "verify 6 (dead code)");
    public static readonly VerificationCheck BigEndian = new("libxl.header.big-endian", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "The endianness bit is clear (libxl cannot restore big-endian streams).", "C libxl_stream_read.c");
    public static readonly VerificationCheck UnknownType = new("libxl.record.unknown-type", ProfileSet.All, FindingSeverity.Error,
        "The record type is one libxl defines (0..5, plus 6 in the post-copy RFC); libxl has no optional records.", "verify 7; C process_record default");
    public static readonly VerificationCheck Padding = new("libxl.record.padding", ProfileSet.All, FindingSeverity.Error,
        "Record padding bytes are zero.", "verify 8");
    public static readonly VerificationCheck EndLength = new("libxl.end.length", ProfileSet.All, FindingSeverity.Error,
        "END has an empty body.", "verify 9");
    public static readonly VerificationCheck LibxcContextLength = new("libxl.libxc-context.length", ProfileSet.All, FindingSeverity.Error,
        "LIBXC_CONTEXT has an empty body.", "verify 10");
    public static readonly VerificationCheck XenstoreTooShort = new("libxl.xenstore-data.too-short", ProfileSet.All, FindingSeverity.Error,
        "EMULATOR_XENSTORE_DATA holds at least the 8-byte emulator sub-header.", "verify 11; C");
    public static readonly VerificationCheck XenstoreEmulator = new("libxl.xenstore-data.emulator-id", ProfileSet.All, FindingSeverity.Error,
        "EMULATOR_XENSTORE_DATA's emulator_id is 0, 1 or 2.", "verify 11");
    public static readonly VerificationCheck XenstoreFraming = new("libxl.xenstore-data.framing", ProfileSet.All, FindingSeverity.Error,
        "Non-empty xenstore data ends in NUL and holds an even number of strings (verify-stream-v2 under Python 3 rejects all: a bug not copied).",
        "verify 11 (fixed); C libxl__restore_emulator_xenstore_data");
    public static readonly VerificationCheck XenstoreKey = new("libxl.xenstore-data.key", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "Every key is non-empty and relative (no leading '/').", "C libxl__restore_emulator_xenstore_data");
    public static readonly VerificationCheck EmulatorContextTooShort = new("libxl.emulator-context.too-short", ProfileSet.All, FindingSeverity.Error,
        "EMULATOR_CONTEXT holds at least the 8-byte emulator sub-header.", "verify 12; C write_emulator_blob");
    public static readonly VerificationCheck EmulatorContextEmulator = new("libxl.emulator-context.emulator-id", ProfileSet.All, FindingSeverity.Error,
        "EMULATOR_CONTEXT's emulator_id is 0, 1 or 2.", "verify 12");
    public static readonly VerificationCheck EmulatorNotHvm = new("libxl.emulator.not-hvm", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "EMULATOR_* records belong to HVM guests only.", "C process_record (\"... when none was expected\")");
    public static readonly VerificationCheck CheckpointEndLength = new("libxl.checkpoint-end.length", ProfileSet.All, FindingSeverity.Error,
        "CHECKPOINT_END has an empty body.", "verify 13");
    public static readonly VerificationCheck CheckpointEndUnexpected = new("libxl.checkpoint-end.unexpected", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "CHECKPOINT_END only closes a checkpoint's libxl records (after a libxc CHECKPOINT).", "C process_record (\"Unexpected CHECKPOINT_END\")");
    public static readonly VerificationCheck CheckpointStateEmpty = new("libxl.checkpoint-state.empty", ProfileSet.All, FindingSeverity.Error,
        "CHECKPOINT_STATE has a non-empty body.", "verify 14");
    public static readonly VerificationCheck CheckpointStateTooShort = new("libxl.checkpoint-state.too-short", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "CHECKPOINT_STATE holds at least the u32 control_id (the C reader dereferences it unchecked).", "FORMATS.md 8; C process_record");
    public static readonly VerificationCheck CheckpointStateId = new("libxl.checkpoint-state.control-id", ProfileSet.Strict, FindingSeverity.Error,
        "CHECKPOINT_STATE's control_id is 0..3.", "FORMATS.md 2.3");
    public static readonly VerificationCheck CheckpointStateUnexpected = new("libxl.checkpoint-state.unexpected", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "CHECKPOINT_STATE belongs to the COLO back channel, not to the main stream.", "C process_record (\"Unexpected CHECKPOINT_STATE\")");
    public static readonly VerificationCheck ColoStateId = new("libxl.checkpoint-state.colo-main", ProfileSet.Strict, FindingSeverity.Error,
        "On a COLO main stream (primary → secondary) the CHECKPOINT_STATE after CHECKPOINT_END is CHECKPOINT_NEW; the others travel on the back channel.",
        "libxl_colo_restore.c colo_stream_read_done (\"invalid section\")");
    public static readonly VerificationCheck TailRecord = new("libxl.tail.record", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "A checkpoint's libxl records are EMULATOR_* then CHECKPOINT_END (post-copy: EMULATOR_* then POSTCOPY_TRANSITION_END).",
        "FORMATS.md 2.4, 9; C stream_complete asserts on END inside a checkpoint");
    public static readonly VerificationCheck PostcopyTransitionEndLength = new("libxl.postcopy-transition-end.length", ProfileSet.All, FindingSeverity.Error,
        "RFC POSTCOPY_TRANSITION_END has an empty body.", "FORMATS.md 9");
    public static readonly VerificationCheck PostcopyTransitionEndUnexpected = new("libxl.postcopy-transition-end.unexpected", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "RFC POSTCOPY_TRANSITION_END only follows libxc POSTCOPY_TRANSITION.", "FORMATS.md 9");
    public static readonly VerificationCheck LibxcContextFirst = new("libxl.order.libxc-context-first", ProfileSet.Strict, FindingSeverity.Error,
        "The first libxl record is LIBXC_CONTEXT.", "FORMATS.md 2.4");
    public static readonly VerificationCheck LibxcContextDuplicate = new("libxl.libxc-context.duplicate", ProfileSet.Strict, FindingSeverity.Error,
        "There is exactly one LIBXC_CONTEXT (later checkpoints continue the same libxc stream).", "FORMATS.md 2.4");
    public static readonly VerificationCheck LibxcContextMissing = new("libxl.libxc-context.missing", ProfileSet.Strict, FindingSeverity.Error,
        "A complete libxl stream holds a LIBXC_CONTEXT (else no guest memory or state is restored).", "FORMATS.md 2.4");
}
