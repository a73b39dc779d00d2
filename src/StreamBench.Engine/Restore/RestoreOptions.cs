using StreamBench.Domain;
using StreamBench.Domain.Pv;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;

namespace StreamBench.Engine.Restore;

/// <summary>Options for <see cref="RestoreEngine"/>.</summary>
public sealed record RestoreOptions
{
    /// <summary>How to read the input: the outer format (auto, xl, libxl, libxc). Only the upstream dialect restores.</summary>
    public XenStreamReaderOptions Reader { get; init; } = new();

    /// <summary>
    /// An empty domain (Building, nothing populated) to restore into, as libxl creates one before calling the
    /// restore. When null the engine creates it from <see cref="Config"/>, the overrides, or the xl header's config.
    /// On failure the target is discarded either way.
    /// </summary>
    public GuestDomain? Target { get; init; }

    /// <summary>The domain's configuration; null: the one in the xl header (if any).</summary>
    public DomainConfig? Config { get; init; }

    /// <summary>Overrides the configuration's guest type (hvm vs pvh cannot be told from a libxc stream).</summary>
    public GuestType? Guest { get; init; }

    /// <summary>Overrides the configuration's vCPU count.</summary>
    public int? Vcpus { get; init; }

    /// <summary>Overrides the configuration's memory (pages).</summary>
    public ulong? MemoryPages { get; init; }

    /// <summary>Overrides the configuration's <see cref="DomainConfig.OpenMemoryMap"/> (HVM/PVH may populate inside the holes).</summary>
    public bool? OpenMemoryMap { get; init; }

    /// <summary>Where a new PV domain's machine frames come from (a fresh host when null).</summary>
    public MachineFrameAllocator? Host { get; init; }

    /// <summary>
    /// Whether the stream is checkpointed (Remus). The C restore is told this by libxl; <see cref="CheckpointMode.Auto"/>
    /// accepts CHECKPOINT wherever it appears, <see cref="CheckpointMode.Plain"/> refuses it.
    /// </summary>
    public CheckpointMode Checkpoints { get; init; } = CheckpointMode.Auto;

    /// <summary>
    /// Refuse non-zero reserved fields and padding, as the verifier's restore profile does (which includes Xen's
    /// verify-stream-v2 checks). False: ignore them, as the C restore does.
    /// </summary>
    public bool CheckReservedFields { get; init; } = true;

    /// <summary>The xenstore event channel the toolstack allocated (PV start_info; HVM with <see cref="SetHvmEventChannels"/>).</summary>
    public uint StoreEventChannel { get; init; } = 1;

    /// <summary>The console event channel the toolstack allocated.</summary>
    public uint ConsoleEventChannel { get; init; } = 2;

    /// <summary>
    /// HVM: set HVM_PARAM_STORE_EVTCHN / CONSOLE_EVTCHN at stream completion as Xen does. Off by default: the
    /// simulated toolstack allocates no channels, and those params are part of the domain's digest.
    /// </summary>
    public bool SetHvmEventChannels { get; init; }

    /// <summary>Cap on the bytes of one checkpoint's buffered records (Xen's is only the memory it can get).</summary>
    public long MaxCheckpointBufferBytes { get; init; } = 1L << 30;

    /// <summary>At most this many VERIFY mismatches are kept (all are counted).</summary>
    public int MaxVerifyMismatchesKept { get; init; } = 256;

    /// <summary>
    /// A COLO secondary (libxl_colo_restore.c): after each checkpoint the guest resumes and runs, the CHECKPOINT_STATE
    /// handshake and CHECKPOINT_DIRTY_PFN_LIST go back to the primary through it, and a lost primary is a failover
    /// to the last complete checkpoint. Implies a checkpointed stream read with <see cref="XenStreamReaderOptions.Colo"/>.
    /// </summary>
    public ColoSecondary? Colo { get; init; }

    /// <summary>
    /// The post-copy destination (the RFC dialect, <see cref="XenStreamReaderOptions.Dialect"/> = PostcopyRfc): faults
    /// go back through it and its vCPU runs after the transition. Null with the RFC dialect: a replay (pages are
    /// applied, nothing is sent back, the guest does not run).
    /// </summary>
    public PostcopyDestination? Postcopy { get; init; }

    /// <summary>
    /// Hash the restored domain's digest while its pages arrive, on a thread of its own (StreamingDigest), so that
    /// <see cref="GuestDomain.ComputeDigest"/> after the restore has only the tail left to hash. HVM and PVH only;
    /// the digest is the same either way. Off by default (a thread per restore); the CLI's restore turns it on.
    /// </summary>
    public bool StreamingDigest { get; init; }

    /// <summary>Called with the domain as soon as the engine creates it (tests check it is discarded on failure).</summary>
    public Action<GuestDomain>? DomainCreated { get; init; }
}
