using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
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
    new("capture",
        "CaptureFile.Open (every chunk: metadata, data, index entries, events, footer) and each direction's item index; chunk CRCs fixed up by the harness",
        StreamBench.Fuzz.Targets.Engine.CaptureTarget.Run, o => o.Expect<StreamBench.Capture.Format.CaptureFormatException>(),
        ["StreamBench.Capture.Format."], ["StreamBench.Capture.dll"], "capture", ["capture"]),
];
return Host.Run(args, targets, () => RestoreTarget.Seeds().Concat(StreamBench.Fuzz.Targets.Engine.CaptureTarget.Seeds()));

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
