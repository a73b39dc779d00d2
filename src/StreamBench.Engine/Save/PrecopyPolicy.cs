namespace StreamBench.Engine.Save;

/// <summary>What the pre-copy policy decides (XGS_POLICY_*).</summary>
public enum PrecopyDecision
{
    /// <summary>Keep sending dirty pages while the guest runs.</summary>
    ContinuePrecopy,

    /// <summary>Suspend the guest and send the rest.</summary>
    StopAndCopy,

    /// <summary>Give up: the save fails.</summary>
    Abort,
}

/// <summary>
/// What the policy sees (struct precopy_stats): the iterations done, the pages written so far, and the dirty count
/// the last log-dirty CLEAN returned (-1 while it is unknown, i.e. right after a pass).
/// </summary>
/// <param name="Iteration">Completed pre-copy iterations.</param>
/// <param name="TotalWritten">Pages sent by the completed iterations.</param>
/// <param name="DirtyCount">Dirty pages from the last CLEAN, or -1.</param>
public readonly record struct PrecopyStats(int Iteration, long TotalWritten, long DirtyCount);

/// <summary>
/// The live-migration pre-copy policy. <see cref="XenDefault"/> is xg_sr_save.c's simple_precopy_policy: stop and copy
/// once fewer than 50 pages are dirty or 5 iterations have completed (SPP_TARGET_DIRTY_COUNT, SPP_MAX_ITERATIONS).
/// Both bounds are tunable; <see cref="Custom"/> replaces the rule altogether (libxl's precopy_policy callback).
/// </summary>
/// <param name="MaxIterations">Stop after this many iterations (the first full pass counts as one).</param>
/// <param name="DirtyThreshold">Stop once fewer pages than this are dirty.</param>
public sealed record PrecopyPolicy(int MaxIterations = PrecopyPolicy.XenMaxIterations, long DirtyThreshold = PrecopyPolicy.XenDirtyThreshold)
{
    /// <summary>SPP_MAX_ITERATIONS.</summary>
    public const int XenMaxIterations = 5;

    /// <summary>SPP_TARGET_DIRTY_COUNT.</summary>
    public const long XenDirtyThreshold = 50;

    /// <summary>Xen's default policy.</summary>
    public static PrecopyPolicy XenDefault { get; } = new();

    /// <summary>A caller's rule instead of the two bounds.</summary>
    public Func<PrecopyStats, PrecopyDecision>? Custom { get; init; }

    /// <summary>The decision for <paramref name="stats"/>.</summary>
    public PrecopyDecision Decide(PrecopyStats stats)
    {
        if (Custom is not null)
        {
            return Custom(stats);
        }

        return (stats.DirtyCount >= 0 && stats.DirtyCount < DirtyThreshold) || stats.Iteration >= MaxIterations
            ? PrecopyDecision.StopAndCopy
            : PrecopyDecision.ContinuePrecopy;
    }
}
