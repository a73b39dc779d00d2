using StreamBench.Domain.Workloads;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats.Wire;

namespace StreamBench.Engine.Save;

/// <summary>The outermost layer a saver writes (FORMATS.md 0).</summary>
public enum SaveFormat
{
    /// <summary>A bare libxc stream (what <c>xc_domain_save</c> writes).</summary>
    Libxc,

    /// <summary>A libxl v2 stream: LIBXC_CONTEXT, the libxc stream, EMULATOR_CONTEXT for HVM, END.</summary>
    Libxl,

    /// <summary>An xl save file: the xl header (JSON config, STREAMv2) around the libxl stream.</summary>
    Xl,
}

/// <summary>How a checkpointed (Remus) save stops after its last checkpoint.</summary>
public enum CheckpointEnding
{
    /// <summary>END right after the last checkpoint (libxc END, then libxl END).</summary>
    End,

    /// <summary>Nothing after the last checkpoint: the stream stops at failover, on a record boundary.</summary>
    Failover,

    /// <summary>Half of one more checkpoint (its pages and TSC, no CHECKPOINT), then the stream stops.</summary>
    PartialCheckpoint,
}

/// <summary>Options for <see cref="SaveEngine"/>.</summary>
public sealed record SaveOptions
{
    /// <summary>Live pre-copy (XCFLAGS_LIVE): memory is sent while the guest runs, then the guest is suspended.</summary>
    public bool Live { get; init; }

    /// <summary>When the pre-copy stops (Xen's default: 5 iterations, 50 dirty pages).</summary>
    public PrecopyPolicy Policy { get; init; } = PrecopyPolicy.XenDefault;

    /// <summary>The running guest: stepped after every live pass (and between checkpoints). Null: an idle guest.</summary>
    public Workload? Workload { get; init; }

    /// <summary>One workload tick per this many data pages sent in a pass (at least one tick per pass).</summary>
    public int WorkloadTickPages { get; init; } = LibxcWire.MaxBatchSize;

    /// <summary>libxc image version: 3 (the saver's; STATIC_DATA_END and CPU policy records) or 2.</summary>
    public uint StreamVersion { get; init; } = LibxcWire.MaxVersion;

    /// <summary>The outermost layer.</summary>
    public SaveFormat Format { get; init; } = SaveFormat.Libxc;

    /// <summary>Debug mode (<c>xl migrate --debug</c>, live only): VERIFY, then every page again.</summary>
    public bool VerifyMode { get; init; }

    /// <summary>Checkpointed (Remus) stream with this many checkpoints; 0 for a plain stream.</summary>
    public int Checkpoints { get; init; }

    /// <summary>How a checkpointed stream ends.</summary>
    public CheckpointEnding CheckpointEnding { get; init; } = CheckpointEnding.End;

    /// <summary>
    /// A COLO primary (libxl_colo_save.c): the checkpointed stream runs the CHECKPOINT_STATE handshake with the
    /// secondary over this back channel and resends the pages the secondary dirtied. Needs <see cref="Checkpoints"/>,
    /// a libxl or xl stream and an HVM guest (libxl: "COLO only supports hvm now").
    /// </summary>
    public ColoPrimary? Colo { get; init; }

    /// <summary>
    /// A post-copy source (the RFC dialect, FORMATS.md 9): live pre-copy passes, then the transition and the rest of
    /// the pages on demand and in the background. Needs <see cref="Live"/> and <see cref="StreamVersion"/> 2 (the RFC's).
    /// </summary>
    public PostcopySource? Postcopy { get; init; }

    /// <summary>Compute the source's digest at every checkpoint (<see cref="SaveResult.CheckpointDigests"/>).</summary>
    public bool RecordCheckpointDigests { get; init; }

    /// <summary>The Xen version the domain header names.</summary>
    public (uint Major, uint Minor) XenVersion { get; init; } = (4, 17);

    /// <summary>The config written into an xl header (default: the domain's own).</summary>
    public DomainConfig? Config { get; init; }

    /// <summary>
    /// The device model's state for EMULATOR_CONTEXT (the QEMU image, without the emulator sub-header), as libxl takes
    /// it from QEMU. Null: the engine's own minimal QEMU image. A save of a restored real HVM guest passes the
    /// restored one (<c>RestoreResult.EmulatorContext</c>), so that a real QEMU can load it again.
    /// </summary>
    public byte[]? EmulatorContext { get; init; }

    /// <summary>Bytes the stream writer gathers before writing to the output.</summary>
    public int WriterBufferSize { get; init; } = 1 << 18;

    /// <summary>Throws if the options contradict each other.</summary>
    public void Validate()
    {
        if (StreamVersion is < LibxcWire.MinVersion or > LibxcWire.MaxVersion)
        {
            throw new ArgumentOutOfRangeException(nameof(StreamVersion), StreamVersion, "the stream version must be 2 or 3");
        }

        if (VerifyMode && (!Live || Checkpoints > 0))
        {
            throw new ArgumentException("VERIFY mode needs a plain live save (xl migrate --debug)");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(Checkpoints);
        if (Postcopy is not null && (!Live || StreamVersion != 2 || Checkpoints > 0 || VerifyMode || Colo is not null))
        {
            throw new ArgumentException("a post-copy save is live, stream version 2 (the RFC's), without checkpoints or VERIFY");
        }

        if (Colo is not null && (Checkpoints == 0 || Format == SaveFormat.Libxc))
        {
            throw new ArgumentException("a COLO save needs checkpoints and the libxl layer (CHECKPOINT_STATE is a libxl record)");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(WorkloadTickPages, 1);
        ArgumentNullException.ThrowIfNull(Policy);
    }
}
