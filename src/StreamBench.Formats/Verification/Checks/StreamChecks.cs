namespace StreamBench.Formats.Verification;

/// <summary>
/// The checks of the stream as a whole (how it ends, trailing bytes, inputs that cannot be framed), in catalog order. Every check is a typed value: the verifier reports it, the restore engine
/// refuses with it (<see cref="StreamFormatException.Check"/>), and a misspelt name does not compile.
/// </summary>
public static class StreamChecks
{
    public static readonly VerificationCheck Truncated = new("stream.truncated", ProfileSet.All, FindingSeverity.Error,
        "The input ends inside a header, record or padding (a checkpointed stream past its first complete checkpoint is a failover in restore/strict).",
        "verify 2 (IOError \"Stream truncated\"); C read_exact");
    public static readonly VerificationCheck MissingEnd = new("stream.missing-end", ProfileSet.All, FindingSeverity.Error,
        "The input ends on a record boundary without the outermost END (restore/strict: only for streams that are not checkpointed).",
        "verify 2; C restore loop runs to END");
    public static readonly VerificationCheck Failover = new("stream.failover", ProfileSet.RestoreAndStrict, FindingSeverity.Info,
        "A checkpointed stream ends at failover: the receiver keeps the last complete checkpoint and discards the rest.",
        "FORMATS.md 5.4; C restore remus_failover");
    public static readonly VerificationCheck FailoverBeforeCheckpoint = new("stream.failover-before-checkpoint", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "A checkpointed stream ends before its first checkpoint is complete: there is no consistent state to fail over to.",
        "C handle_checkpoint (\"We don't have a consistent state\")");
    public static readonly VerificationCheck Malformed = new("stream.malformed", ProfileSet.All, FindingSeverity.Error,
        "The reader cannot frame the input (other than by truncation).", "XenStreamReader");
    public static readonly VerificationCheck Legacy = new("stream.legacy", ProfileSet.All, FindingSeverity.Error,
        "The input is not a v2/v3 stream (no xl magic, no LibxlFmt ident, no XENF image header): a legacy image or garbage; not verified.",
        "verify 15/16 (a libxc stream must start with the image marker)", fatal: true);
    public static readonly VerificationCheck TrailingData = new("stream.trailing-data", ProfileSet.Strict, FindingSeverity.Error,
        "Nothing but xl migrate protocol messages may follow the outermost END.", "FORMATS.md 14");
    public static readonly VerificationCheck TrailingDataIgnored = new("stream.trailing-data-ignored", ProfileSet.Xen | ProfileSet.Restore, FindingSeverity.Info,
        "Bytes after the outermost END are ignored (verify-stream-v2 and the restore stop reading at END).", "FORMATS.md 10 (not checked), 11");
    public static readonly VerificationCheck MigrateFailed = new("stream.migrate-failed", ProfileSet.All, FindingSeverity.Warning,
        "The xl migrate receiver reported a non-zero unpause result.", "tools/xl/xl_migrate.c");
}
