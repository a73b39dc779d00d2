using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Synthesis;

/// <summary>The outer wrapping of a synthetic stream.</summary>
public enum SyntheticLayer
{
    /// <summary>A bare libxc stream.</summary>
    Libxc,
    /// <summary>A libxl v2 stream around the libxc stream.</summary>
    Libxl,
    /// <summary>An xl save file (xl header with a JSON config) around the libxl stream.</summary>
    Xl,
    /// <summary>The sender side of <c>xl migrate</c>: the xl stream, then "domain is yours…".</summary>
    XlMigrateSender,
}

/// <summary>The guest shape of a synthetic stream.</summary>
public enum SyntheticGuest
{
    /// <summary>64-bit PV (width 8, 4 levels).</summary>
    Pv,
    /// <summary>32-bit PV (width 4, 3 levels).</summary>
    Pv32,
    /// <summary>HVM with a device model (EMULATOR_CONTEXT in libxl streams).</summary>
    Hvm,
    /// <summary>PVH: an HVM stream without device-model records.</summary>
    Pvh,
}

/// <summary>What to generate. Every combination is a valid stream of its kind.</summary>
public sealed record SyntheticStreamOptions
{
    /// <summary>The wrapping.</summary>
    public SyntheticLayer Layer { get; init; } = SyntheticLayer.Libxc;

    /// <summary>The guest.</summary>
    public SyntheticGuest Guest { get; init; } = SyntheticGuest.Hvm;

    /// <summary>Image version: 3 (default) or 2. The post-copy dialect is always 2.</summary>
    public uint Version { get; init; } = LibxcWire.MaxVersion;

    /// <summary>The record dictionary.</summary>
    public StreamDialect Dialect { get; init; } = StreamDialect.Upstream;

    /// <summary>Guest pages sent in the first pass.</summary>
    public int Pages { get; init; } = 64;

    /// <summary>pfns per PAGE_DATA record.</summary>
    public int BatchSize { get; init; } = LibxcWire.MaxBatchSize;

    /// <summary>Every n-th pfn is sent as XTAB (no data), 0 for none.</summary>
    public int XtabEvery { get; init; }

    /// <summary>Every n-th page is all zeros, 0 for none.</summary>
    public int ZeroPageEvery { get; init; } = 4;

    /// <summary>vCPUs.</summary>
    public int Vcpus { get; init; } = 1;

    /// <summary>Adds VERIFY and a full resend (<c>xl migrate --debug</c>).</summary>
    public bool DebugVerify { get; init; }

    /// <summary>Checkpoints after the first pass (Remus/COLO shape): 0 for a plain stream.</summary>
    public int Checkpoints { get; init; }

    /// <summary>Dirty pages resent in each checkpoint.</summary>
    public int DirtyPagesPerCheckpoint { get; init; } = 8;

    /// <summary>In a checkpointed stream: stop at failover (no END), optionally in the middle of a checkpoint.</summary>
    public bool EndAtFailover { get; init; } = true;

    /// <summary>In a failover ending: append a partial checkpoint (some PAGE_DATA and no CHECKPOINT).</summary>
    public bool PartialCheckpointAtFailover { get; init; }

    /// <summary>Xen version in the domain header.</summary>
    public uint XenMajor { get; init; } = 4;

    /// <summary>Xen minor version in the domain header.</summary>
    public uint XenMinor { get; init; } = 17;

    /// <summary>Seed for page contents.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>A COLO primary stream: a libxl CHECKPOINT_STATE (CHECKPOINT_NEW) after each CHECKPOINT_END.</summary>
    public bool Colo { get; init; }

    /// <summary>Adds EMULATOR_XENSTORE_DATA (HVM, libxl layers).</summary>
    public bool XenstoreData { get; init; }
}
