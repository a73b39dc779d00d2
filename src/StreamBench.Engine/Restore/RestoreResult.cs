using StreamBench.Domain;
using StreamBench.Domain.Digest;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats.Streams;

namespace StreamBench.Engine.Restore;

/// <summary>What a restore produced: the Ready domain and what the stream held.</summary>
public sealed class RestoreResult
{
    internal RestoreResult()
    {
    }

    /// <summary>The restored domain (Ready). The caller owns it.</summary>
    public GuestDomain Domain { get; internal set; } = null!;

    /// <summary>
    /// The digest hashed while the pages arrived (<see cref="RestoreOptions.StreamingDigest"/>; null when off or for a
    /// PV domain). <see cref="GuestDomain.ComputeDigest"/> takes it; afterwards <see cref="StreamBench.Domain.Digest.StreamingDigest.Taken"/>
    /// and <see cref="StreamBench.Domain.Digest.StreamingDigest.VoidReason"/> tell whether it held.
    /// </summary>
    public StreamingDigest? StreamingDigest { get; internal set; }

    /// <summary>The configuration the domain was created from.</summary>
    public DomainConfig? Config { get; internal set; }

    /// <summary>The outer layer detected.</summary>
    public OuterFormat Format { get; internal set; }

    /// <summary>The libxc image version (2 or 3).</summary>
    public uint StreamVersion { get; internal set; }

    /// <summary>The saver's Xen version from the domain header (0.x: converted from a legacy stream).</summary>
    public (uint Major, uint Minor) XenVersion { get; internal set; }

    /// <summary>Records read (every layer).</summary>
    public long Records { get; internal set; }

    /// <summary>PAGE_DATA records applied.</summary>
    public long PageDataRecords { get; internal set; }

    /// <summary>pfn entries applied (XTAB included).</summary>
    public long Pfns { get; internal set; }

    /// <summary>Pages of data applied (copied, or compared in VERIFY mode).</summary>
    public long DataPages { get; internal set; }

    /// <summary>Stream bytes consumed, up to and including the outermost END.</summary>
    public long Bytes { get; internal set; }

    /// <summary>Unknown optional records skipped.</summary>
    public long IgnoredOptionalRecords { get; internal set; }

    /// <summary>Things accepted but worth knowing (errata records, synthesised CPU policy, ...).</summary>
    public IReadOnlyList<string> Warnings => WarningList;

    internal List<string> WarningList { get; } = [];

    /// <summary>True if the stream had no X86_CPUID_POLICY / X86_MSR_POLICY and a default policy was used (as libxl does).</summary>
    public bool CpuPolicySynthesised { get; internal set; }

    /// <summary>True once a VERIFY record was seen: later pages were compared, not copied.</summary>
    public bool VerifyMode { get; internal set; }

    /// <summary>Pages compared after VERIFY.</summary>
    public long VerifiedPages { get; internal set; }

    /// <summary>Pages whose resent contents differed from what had been restored (all of them counted).</summary>
    public long VerifyMismatchCount { get; internal set; }

    /// <summary>The first mismatching pfns (at most <see cref="RestoreOptions.MaxVerifyMismatchesKept"/>).</summary>
    public IReadOnlyList<ulong> VerifyMismatches => MismatchList;

    internal List<ulong> MismatchList { get; } = [];

    /// <summary>True if the stream carried CHECKPOINT records (Remus).</summary>
    public bool Checkpointed { get; internal set; }

    /// <summary>Complete checkpoints applied; after a failover the domain is the state of the last one.</summary>
    public int CheckpointsApplied { get; internal set; }

    /// <summary>True if the stream ended without END after a complete checkpoint (failover).</summary>
    public bool FailedOver { get; internal set; }

    /// <summary>The post-copy destination's state (RFC dialect streams that reached POSTCOPY_BEGIN).</summary>
    public PostcopyDestination? Postcopy { get; internal set; }

    /// <summary>COLO main stream: CHECKPOINT_STATE (CHECKPOINT_NEW) records the primary sent after CHECKPOINT_END.</summary>
    public int ColoCheckpointNewRecords { get; internal set; }

    /// <summary>Buffered records of an incomplete checkpoint that were dropped.</summary>
    public long DiscardedRecords { get; internal set; }

    /// <summary>Body bytes of the dropped records.</summary>
    public long DiscardedBytes { get; internal set; }

    /// <summary>The device model's state from EMULATOR_CONTEXT (without the sub-header), if any.</summary>
    public byte[]? EmulatorContext { get; internal set; }

    /// <summary>Key/value pairs from EMULATOR_XENSTORE_DATA, if any.</summary>
    public IReadOnlyDictionary<string, string> XenstoreData => XenstoreMap;

    internal Dictionary<string, string> XenstoreMap { get; } = new(StringComparer.Ordinal);

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp at the start.</summary>
    public long StartTimestamp { get; internal set; }

    /// <summary>Timestamp when stream_complete finished (the domain was complete and could be unpaused).</summary>
    public long StreamCompleteTimestamp { get; internal set; }

    /// <summary>Wall time from the start to the outermost END (or failover).</summary>
    public TimeSpan Elapsed { get; internal set; }
}
