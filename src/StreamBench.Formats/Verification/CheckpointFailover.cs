namespace StreamBench.Formats.Verification;

/// <summary>
/// The one failover rule for checkpointed (Remus/COLO) streams, used by the verifier and the restore engine alike
/// (FORMATS.md 5.4; libxl_stream_read.c and xg_sr_restore.c: a checkpointed stream that breaks off resumes the guest from
/// its last complete checkpoint). A checkpoint is complete once the record that completes it has been read to its last
/// padding byte: libxl's CHECKPOINT_END, or libxc's CHECKPOINT in a bare libxc stream.
/// </summary>
public static class CheckpointFailover
{
    /// <summary>
    /// Whether a checkpointed stream that ends before its final END (the outermost one: libxl's in a libxl stream) may
    /// fail over: when at least one checkpoint is complete. A libxc END without the libxl END that should follow is
    /// such an ending too.
    /// </summary>
    public static bool CanFailOver(long completeCheckpoints) => completeCheckpoints > 0;

    /// <summary>
    /// Bytes discarded at failover: every byte after the end of the last complete checkpoint up to the end of the
    /// input (records, headers, padding and any partial item), or the whole input when no checkpoint is complete.
    /// </summary>
    public static long DiscardedBytes(long completeCheckpoints, long lastCheckpointEnd, long inputEnd) =>
        Math.Max(0, inputEnd - (completeCheckpoints > 0 ? lastCheckpointEnd : 0));
}
