using StreamBench.Engine.Save;
using StreamBench.Formats;
using StreamBench.Fuzz.Targets;

namespace StreamBench.Fuzz.Targets.Engine;

/// <summary>
/// Every target of the engine host: the formats targets plus the restore engine, the COLO and post-copy sides and the
/// capture reader. The own runtime's host (Program) and SharpFuzz's (StreamBench.Fuzz.Targets.SharpFuzz, afl-fuzz and
/// libFuzzer mode) both run this list.
/// </summary>
public static class EngineCatalog
{
    /// <summary>The targets, formats first.</summary>
    public static readonly FuzzTarget[] All =
    [
        .. Catalog.All,
        new("restore-engine",
            "RestoreEngine (xl/libxl/libxc, PV and HVM, checkpoints) into a fresh simulated domain of 2048 pages and 2 vCPUs",
            RestoreTarget.Run, o => o.Expect<StreamFormatException>(),
            ["StreamBench.Engine.", "StreamBench.Domain.", "StreamBench.Formats.Streams."],
            ["StreamBench.Engine.dll", "StreamBench.Domain.dll", "StreamBench.Formats.dll", "StreamBench.IO.dll"],
            "engine", ["xen"], OutOfProcess: true),
        new("colo-secondary",
            "RestoreEngine as a COLO secondary (ColoSecondary: resume, run, suspend, dirty pfn list) on a mutated primary stream, 32-page HVM domain",
            EngineTargets.ColoSecondary, o => o.Expect<StreamFormatException>(),
            ["StreamBench.Engine.", "StreamBench.Domain.", "StreamBench.Formats.Streams."],
            ["StreamBench.Engine.dll", "StreamBench.Domain.dll", "StreamBench.Formats.dll", "StreamBench.IO.dll"],
            "colo", ["xen"], OutOfProcess: true),
        new("colo-primary",
            "SaveEngine as a COLO primary (ColoPrimary) reading a mutated back channel (CHECKPOINT_STATE, CHECKPOINT_DIRTY_PFN_LIST) for a 32-page HVM guest",
            EngineTargets.ColoPrimaryBackChannel, o => o.Expect<ColoProtocolException>(),
            ["StreamBench.Engine.", "StreamBench.Formats.Streams."],
            ["StreamBench.Engine.dll", "StreamBench.Domain.dll", "StreamBench.Formats.dll", "StreamBench.IO.dll"],
            "colo-back", ["xen"], OutOfProcess: true),
        new("postcopy-destination",
            "RestoreEngine as a post-copy destination (RFC dialect, PostcopyDestination with a running vCPU) on a mutated stream, 32-page HVM domain",
            EngineTargets.PostcopyDestination, o => o.Expect<StreamFormatException>(),
            ["StreamBench.Engine.", "StreamBench.Domain.", "StreamBench.Formats.Streams."],
            ["StreamBench.Engine.dll", "StreamBench.Domain.dll", "StreamBench.Formats.dll", "StreamBench.IO.dll"],
            "postcopy", ["xen"], OutOfProcess: true),
        new("postcopy-source",
            "SaveEngine as a post-copy source (PostcopySource) for a 32-page HVM guest fed a hostile destination's back channel (faults out of range, repeats, floods); nothing may escape",
            EngineTargets.PostcopySourceHostile, _ => { },
            ["StreamBench.Engine.", "StreamBench.Formats.Streams."],
            ["StreamBench.Engine.dll", "StreamBench.Domain.dll", "StreamBench.Formats.dll", "StreamBench.IO.dll"],
            "postcopy-back", ["xen"], OutOfProcess: true),
        new("capture",
            "Capture files, CRCs fixed up by the harness (export --info: header, chunks, metadata, index, events, footer) and both directions through the input seam",
            StreamBench.Fuzz.Targets.Engine.CaptureTarget.Run, o => o.Expect<StreamFormatException>().Expect<StreamBench.Capture.Format.CaptureFormatException>(),
            ["StreamBench.Capture.Format.", "StreamBench.Capture.Input.", "StreamBench.Capture.Tools.CaptureSummary"],
            ["StreamBench.Capture.dll"], "capture", ["capture"]),
    ];

    /// <summary>The seed families of the engine targets (restore-engine, capture, COLO, post-copy).</summary>
    public static IEnumerable<(string Family, string Name, byte[] Bytes)> Seeds() =>
        RestoreTarget.Seeds().Concat(CaptureTarget.Seeds()).Concat(EngineTargets.Seeds());
}
