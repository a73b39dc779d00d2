using FsCheck;
using FsCheck.Fluent;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;

namespace StreamBench.Tests.Streams;

/// <summary>Named synthetic streams covering every layer and dialect, and a generator of random valid ones.</summary>
/// <summary>The Arbitrary of generated stream options, for the classes whose properties draw from <see cref="SyntheticCases.Options"/>.</summary>
public static class SyntheticArbitraries
{
    /// <summary>Random valid stream options of every layer and dialect.</summary>
    public static Arbitrary<SyntheticStreamOptions> Options() => Arb.From(SyntheticCases.Options);
}

public static class SyntheticCases
{
    /// <summary>One named case per shape the reader must handle.</summary>
    public static IReadOnlyDictionary<string, SyntheticStreamOptions> Named { get; } = new Dictionary<string, SyntheticStreamOptions>
    {
        ["libxc-hvm-v3"] = new() { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm },
        ["libxc-hvm-v2"] = new() { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Version = 2 },
        ["libxc-pv-v3"] = new() { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Pv, Vcpus = 2 },
        ["libxc-pv32-v3"] = new() { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Pv32 },
        ["libxl-hvm"] = new() { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Hvm, XenstoreData = true },
        ["libxl-pvh"] = new() { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Pvh },
        ["xl-pv"] = new() { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Pv },
        ["xl-migrate-hvm"] = new() { Layer = SyntheticLayer.XlMigrateSender, Guest = SyntheticGuest.Hvm },
        ["xl-debug-verify"] = new() { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Pvh, DebugVerify = true },
        ["libxc-remus-failover"] = new() { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Checkpoints = 3 },
        ["libxl-remus-failover"] = new() { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Hvm, Checkpoints = 3 },
        ["libxl-remus-partial"] = new() { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Hvm, Checkpoints = 2, PartialCheckpointAtFailover = true },
        ["libxl-remus-end"] = new() { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Pvh, Checkpoints = 2, EndAtFailover = false },
        ["libxc-postcopy"] = new() { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Dialect = StreamDialect.PostcopyRfc },
        ["libxl-postcopy"] = new() { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Hvm, Dialect = StreamDialect.PostcopyRfc },
        ["xl-postcopy"] = new() { Layer = SyntheticLayer.XlMigrateSender, Guest = SyntheticGuest.Hvm, Dialect = StreamDialect.PostcopyRfc },
        ["libxc-xtab-small-batches"] = new() { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, XtabEvery = 5, BatchSize = 7, Pages = 50 },
    };

    /// <summary>Random valid stream options of every layer and dialect.</summary>
    public static Gen<SyntheticStreamOptions> Options { get; } =
        from layer in Gen.Elements(Enum.GetValues<SyntheticLayer>())
        from guest in Gen.Elements(Enum.GetValues<SyntheticGuest>())
        from rfc in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from version in Gen.Elements(2u, 3u)
        from pages in Gen.Choose(1, 80)
        from batch in Gen.Choose(1, 40)
        from xtab in Gen.Choose(0, 6)
        from vcpus in Gen.Choose(1, 3)
        from checkpoints in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(1, 3)))
        from failover in Gen.Elements(true, false)
        from partial in Gen.Elements(true, false)
        from debug in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
        from seed in Gen.Choose(0, int.MaxValue)
        let postcopy = rfc && guest is SyntheticGuest.Hvm or SyntheticGuest.Pvh
        select new SyntheticStreamOptions
        {
            Layer = layer,
            Guest = guest,
            Dialect = postcopy ? StreamDialect.PostcopyRfc : StreamDialect.Upstream,
            Version = version,
            Pages = pages,
            BatchSize = batch,
            XtabEvery = xtab,
            Vcpus = vcpus,
            Checkpoints = postcopy ? 0 : checkpoints,
            EndAtFailover = failover,
            PartialCheckpointAtFailover = partial,
            DebugVerify = debug && !postcopy,
            Seed = (ulong)seed,
            XenstoreData = seed % 2 == 0,
        };
}
