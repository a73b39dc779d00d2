using StreamBench.Domain.Digest;
using StreamBench.Engine.Toolstack;

namespace StreamBench.Engine.Save;

/// <summary>Which kind of memory pass a <see cref="PassStats"/> describes.</summary>
public enum PassKind
{
    /// <summary>A pre-copy iteration while the guest runs (the first one sends every pfn).</summary>
    Live,

    /// <summary>Every pfn with the guest suspended (a non-live save).</summary>
    NonLive,

    /// <summary>The dirty pages after suspending (the last pass of a live save, or one checkpoint).</summary>
    Suspended,

    /// <summary>Every page again after VERIFY (debug mode).</summary>
    Verify,

    /// <summary>Post-copy: the pages announced at the transition, faulted ones first (POSTCOPY_PAGE_DATA).</summary>
    Postcopy,
}

/// <summary>One memory pass.</summary>
/// <param name="Number">1-based, in stream order.</param>
/// <param name="Kind">What the pass was.</param>
/// <param name="Pfns">pfns sent (PAGE_DATA entries, XTAB included).</param>
/// <param name="DataPages">Pages sent with their 4 KiB of data.</param>
/// <param name="Records">PAGE_DATA records.</param>
/// <param name="Bytes">Stream bytes of the pass.</param>
/// <param name="Duration">Wall time of the pass.</param>
/// <param name="WorkloadWrites">Page writes the guest made after the pass (live passes and checkpoints).</param>
public sealed record PassStats(int Number, PassKind Kind, long Pfns, long DataPages, long Records, long Bytes, TimeSpan Duration, long WorkloadWrites);

/// <summary>What a save did.</summary>
public sealed class SaveResult
{
    internal SaveResult(DomainConfig config, SaveOptions options)
    {
        Config = config;
        Options = options;
    }

    /// <summary>The saved domain's configuration (as written into an xl header).</summary>
    public DomainConfig Config { get; }

    /// <summary>The options used.</summary>
    public SaveOptions Options { get; }

    /// <summary>Every memory pass, in order.</summary>
    public IReadOnlyList<PassStats> Passes => PassList;

    internal List<PassStats> PassList { get; } = [];

    /// <summary>Live pre-copy iterations (passes of kind <see cref="PassKind.Live"/>).</summary>
    public int LiveIterations => PassList.Count(p => p.Kind == PassKind.Live);

    /// <summary>The policy's last decision input (why the pre-copy stopped), for live saves.</summary>
    public PrecopyStats? FinalPrecopyStats { get; internal set; }

    /// <summary>Total stream bytes written (every layer).</summary>
    public long Bytes { get; internal set; }

    /// <summary>Records written (libxc and libxl).</summary>
    public long Records { get; internal set; }

    /// <summary>Page writes the workload made during the save.</summary>
    public long WorkloadWrites { get; internal set; }

    /// <summary>Wall time of the whole save.</summary>
    public TimeSpan Elapsed { get; internal set; }

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp at the start.</summary>
    public long StartTimestamp { get; internal set; }

    /// <summary>Timestamp when the guest was suspended (the start of the final pass; for checkpoints, the last one).</summary>
    public long SuspendTimestamp { get; internal set; }

    /// <summary>Timestamp after the last byte was written and flushed.</summary>
    public long EndTimestamp { get; internal set; }

    /// <summary>Checkpoints written (Remus streams).</summary>
    public int Checkpoints { get; internal set; }

    /// <summary>The source's digest at each checkpoint, when <see cref="SaveOptions.RecordCheckpointDigests"/>.</summary>
    public IReadOnlyList<DomainDigest> CheckpointDigests => CheckpointDigestList;

    internal List<DomainDigest> CheckpointDigestList { get; } = [];
}
