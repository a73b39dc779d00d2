using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using StreamBench.Fuzz.Targets;

// The fuzz target host with the restore engine: every formats target plus restore-engine (see Host).
FuzzTarget[] targets =
[
    .. Catalog.All,
    new("restore-engine",
        "RestoreEngine (xl/libxl/libxc, PV and HVM, checkpoints) into a fresh simulated domain of 2048 pages and 2 vCPUs",
        RestoreTarget.Run, o => o.Expect<StreamFormatException>(),
        ["StreamBench.Engine.", "StreamBench.Domain.", "StreamBench.Formats.Streams."],
        ["StreamBench.Engine.dll", "StreamBench.Domain.dll", "StreamBench.Formats.dll", "StreamBench.IO.dll"],
        "engine", ["xen"], OutOfProcess: true),
    new("colo-secondary",
        "RestoreEngine as a COLO secondary (ColoSecondary: resume, run, suspend, dirty pfn list) on a mutated primary stream, 2048-page HVM domain",
        EngineTargets.ColoSecondary, o => o.Expect<StreamFormatException>(),
        ["StreamBench.Engine.", "StreamBench.Domain.", "StreamBench.Formats.Streams."],
        ["StreamBench.Engine.dll", "StreamBench.Domain.dll", "StreamBench.Formats.dll", "StreamBench.IO.dll"],
        "colo", ["xen"], OutOfProcess: true),
    new("colo-primary",
        "SaveEngine as a COLO primary (ColoPrimary) reading a mutated back channel (CHECKPOINT_STATE, CHECKPOINT_DIRTY_PFN_LIST) for a small HVM guest",
        EngineTargets.ColoPrimaryBackChannel, o => o.Expect<ColoProtocolException>(),
        ["StreamBench.Engine.", "StreamBench.Formats.Streams."],
        ["StreamBench.Engine.dll", "StreamBench.Domain.dll", "StreamBench.Formats.dll", "StreamBench.IO.dll"],
        "colo-back", ["xen"], OutOfProcess: true),
    new("postcopy-destination",
        "RestoreEngine as a post-copy destination (RFC dialect, PostcopyDestination with a running vCPU) on a mutated stream, 2048-page domain",
        EngineTargets.PostcopyDestination, o => o.Expect<StreamFormatException>(),
        ["StreamBench.Engine.", "StreamBench.Domain.", "StreamBench.Formats.Streams."],
        ["StreamBench.Engine.dll", "StreamBench.Domain.dll", "StreamBench.Formats.dll", "StreamBench.IO.dll"],
        "postcopy", ["xen"], OutOfProcess: true),
    new("postcopy-source",
        "SaveEngine as a post-copy source (PostcopySource) fed a hostile destination's back channel (faults out of range, repeats, floods); nothing may escape",
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
return Host.Run(args, targets, () => RestoreTarget.Seeds().Concat(StreamBench.Fuzz.Targets.Engine.CaptureTarget.Seeds()).Concat(EngineTargets.Seeds()));

/// <summary>
/// The <c>restore-engine</c> target: the whole restore of the input. The domain's size is given (as xl restore needs a
/// config for a stream without one); an xl header's config is overridden for memory, so a stream cannot ask for a
/// domain larger than 8 MiB. Only <see cref="StreamFormatException"/> is expected.
/// </summary>
internal static class RestoreTarget
{
    private static readonly RestoreOptions Options = new() { MemoryPages = 2048, Vcpus = 2 };

    public static void Run(ReadOnlyMemory<byte> data)
    {
        using var source = ByteSource.FromMemory(data);
        RestoreEngine.Restore(source, Options);
    }

    /// <summary>
    /// The "engine" seed family: streams the save engine writes for small PV, PV32, HVM and PVH domains (plain, live,
    /// checkpointed; libxc, libxl and xl), made small but still restorable (<see cref="Seeds.ShrinkRestorable"/>).
    /// </summary>
    public static IEnumerable<(string Family, string Name, byte[] Bytes)> Seeds()
    {
        foreach (var type in (GuestType[])[GuestType.Hvm, GuestType.Pvh, GuestType.Pv, GuestType.Pv32])
        {
            foreach (var format in (SaveFormat[])[SaveFormat.Libxc, SaveFormat.Libxl, SaveFormat.Xl])
            {
                foreach (var (shape, options) in ((string, SaveOptions)[])[
                    ("plain", new SaveOptions { Format = format }),
                    ("checkpointed", new SaveOptions { Format = format, Checkpoints = 1 })])
                {
                    var domain = DomainBuilder.Build(new DomainSpec(type, DomainSpec.MinMemoryMiB, 1, 7));
                    using var ms = new MemoryStream();
                    SaveEngine.Save(domain, ms, options);
                    yield return ("engine", $"save-{type.ToName()}-{format.ToString().ToLowerInvariant()}-{shape}",
                        StreamBench.Fuzz.Targets.Seeds.ShrinkRestorable(ms.ToArray()));
                }
            }
        }
    }
}

/// <summary>
/// The COLO and post-copy targets: each side of the two protocols fed mutated input for the other side. Domains are
/// small (2048 pages, or the builder's minimum for the saving sides), so memory is bounded by the domain, never by the
/// input (a dirty pfn list or a fault flood holds at most one entry per pfn of the guest).
/// </summary>
internal static class EngineTargets
{
    private static readonly WorkloadOptions Load = new(WorkloadPattern.HotSet, 8, 3);

    public static void ColoSecondary(ReadOnlyMemory<byte> data)
    {
        using var back = new MemoryStream();
        using var secondary = new ColoSecondary(back, d => new Workload(d, Load));
        using var source = ByteSource.FromMemory(data);
        RestoreEngine.Restore(source, new RestoreOptions { MemoryPages = 2048, Vcpus = 1, Guest = GuestType.Hvm, Colo = secondary }).Domain.Discard();
    }

    public static void ColoPrimaryBackChannel(ReadOnlyMemory<byte> data)
    {
        using GuestDomain domain = SmallHvm();
        using var primary = new ColoPrimary(new MemoryStream(data.ToArray(), writable: false));
        SaveEngine.Save(domain, Stream.Null, new SaveOptions
        {
            Checkpoints = 3, Format = SaveFormat.Libxl, Colo = primary, Workload = new Workload(domain, Load),
        });
    }

    public static void PostcopyDestination(ReadOnlyMemory<byte> data)
    {
        using var back = new MemoryStream();
        var guest = new PostcopyGuest(Enumerable.Range(0, 2048).Select(i => (ulong)i).ToArray(), 5, 64);
        using var destination = new PostcopyDestination(back, guest);
        using var source = ByteSource.FromMemory(data);
        RestoreEngine.Restore(source, new RestoreOptions
        {
            MemoryPages = 2048, Vcpus = 1, Guest = GuestType.Hvm, Postcopy = destination,
            Reader = new XenStreamReaderOptions { Dialect = StreamDialect.PostcopyRfc },
        }).Domain.Discard();
    }

    public static void PostcopySourceHostile(ReadOnlyMemory<byte> data)
    {
        using GuestDomain domain = SmallHvm();
        using var postcopy = new PostcopySource(new MemoryStream(data.ToArray(), writable: false));
        SaveEngine.Save(domain, Stream.Null, new SaveOptions
        {
            Live = true, StreamVersion = 2, Format = SaveFormat.Libxl, Postcopy = postcopy,
            Policy = new PrecopyPolicy(MaxIterations: 1, DirtyThreshold: 1), Workload = new Workload(domain, Load),
        });
    }

    private static GuestDomain SmallHvm() => DomainBuilder.Build(new DomainSpec(GuestType.Hvm, DomainSpec.MinMemoryMiB, 1, 7));

    /// <summary>
    /// Seeds from the engine's own streams: a recorded COLO main stream and back channel (colo, colo-back), a recorded
    /// post-copy stream and its back channel (postcopy, postcopy-back).
    /// </summary>
    public static IEnumerable<(string Family, string Name, byte[] Bytes)> Seeds()
    {
        using (GuestDomain source = SmallHvm())
        {
            ColoReport colo = ColoRunner.Run(source, new ColoOptions
            {
                Transport = MigrationTransport.Pipe, Checkpoints = 3, Format = SaveFormat.Libxl, PrimaryWorkload = Load,
                SecondaryWorkload = Load with { Seed = 4 }, RecordMainStream = true, RecordBackChannel = true,
            });
            colo.Secondary?.Domain.Discard();
            if (colo.MainStream is { } main)
            {
                yield return ("colo", "colo-main-libxl-hvm", StreamBench.Fuzz.Targets.Seeds.ShrinkRestorable(main));
            }

            if (colo.BackChannel is { } back)
            {
                yield return ("colo-back", "colo-back-channel", back);
            }
        }

        using (GuestDomain source = SmallHvm())
        {
            PostcopyReport post = PostcopyRunner.Run(source, new PostcopyOptions
            {
                Format = SaveFormat.Libxl, Workload = Load with { PagesPerTick = 64 }, Policy = new PrecopyPolicy(1, 1), Record = true,
            });
            post.Restore?.Domain.Discard();
            if (post.MainStream is { } main)
            {
                yield return ("postcopy", "postcopy-libxl-hvm", main);
            }

            if (post.BackChannel is { } back)
            {
                yield return ("postcopy-back", "postcopy-back-channel", back);
            }
        }
    }
}
