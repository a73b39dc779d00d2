using FsCheck;
using FsCheck.Fluent;
using StreamBench.Formats.Legacy;

namespace StreamBench.Tests.Legacy;

/// <summary>One conversion case: how the legacy image is made and how both converters are asked to convert it.</summary>
public sealed record LegacyConversionCase(LegacySyntheticOptions Image, LegacyConverterOptions Converter)
{
    /// <summary>convert-legacy-stream's arguments for the same conversion (without -i/-o).</summary>
    public IReadOnlyList<string> OracleArgs
    {
        get
        {
            var args = new List<string>
            {
                "-w", Image.Width == LegacyWidth.Bits32 ? "32" : "64",
                "-g", Image.Guest == LegacyGuestType.Pv ? "pv" : "hvm",
                "-f", Converter.Format == LegacyOutputFormat.Libxl ? "libxl" : "libxc",
            };
            if (Converter.SkipQemu)
            {
                args.Add("--skip-qemu");
            }
            if (Converter.XlHeader)
            {
                args.Add("-x");
            }
            return args;
        }
    }
}

/// <summary>The generated legacy corpus the oracle tests compare on.</summary>
public static class LegacyCases
{
    /// <summary>
    /// Every combination of: toolstack width 32/64; PV with a 64-bit or a 32-bit guest, or HVM; with and without the
    /// toolstack chunk, VCPU_INFO and TSC_INFO; libxc and libxl output; for HVM with the QEMU record read, absent
    /// (--skip-qemu) or present but skipped. Odd page types, extv/xcnt, unmapped pfns and several vCPUs vary with the seed.
    /// </summary>
    public static IReadOnlyDictionary<string, LegacyConversionCase> Matrix { get; } = BuildMatrix();

    private static Dictionary<string, LegacyConversionCase> BuildMatrix()
    {
        var cases = new Dictionary<string, LegacyConversionCase>();
        var seed = 1ul;
        foreach (var width in new[] { LegacyWidth.Bits32, LegacyWidth.Bits64 })
        {
            foreach (var guest in new[] { "pv64", "pv32", "hvm" })
            {
                foreach (var toolstack in new[] { false, true })
                {
                    foreach (var vcpuInfo in new[] { false, true })
                    {
                        foreach (var tsc in new[] { false, true })
                        {
                            var qemuModes = guest == "hvm"
                                ? new[] { "libxc+qemu", "libxc-noqemu", "libxc+qemu-skipped", "libxl+qemu" }
                                : ["libxc", "libxl"];
                            foreach (var mode in qemuModes)
                            {
                                seed++;
                                var pv = guest != "hvm";
                                var image = new LegacySyntheticOptions
                                {
                                    Width = width,
                                    Guest = pv ? LegacyGuestType.Pv : LegacyGuestType.Hvm,
                                    GuestWidth = guest == "pv32" ? 4 : 8,
                                    Pages = 24 + (int)(seed % 40),
                                    BatchSize = 5 + (int)(seed % 13),
                                    Seed = seed,
                                    Vcpus = 1 + (int)(seed % 3),
                                    VcpuInfo = vcpuInfo,
                                    TscInfo = tsc,
                                    Toolstack = toolstack,
                                    PhysmapEntries = 1 + (int)(seed % 3),
                                    QemuRecord = mode != "libxc-noqemu",
                                    ExtendedVcpuContext = seed % 2 == 0,
                                    XsaveSize = seed % 3 == 0 ? 832 : 0,
                                    UnmappedPfns = (int)(seed % 4),
                                    OddPages = seed % 2 == 1,
                                    VerifyMode = seed % 5 == 0,
                                    LastCheckpoint = seed % 7 != 0,
                                    HvmContextSize = 100 + (int)(seed % 50),
                                    QemuSize = 300 + (int)(seed % 100),
                                };
                                var converter = new LegacyConverterOptions
                                {
                                    Width = width,
                                    GuestType = image.Guest,
                                    Format = mode.StartsWith("libxl", StringComparison.Ordinal) ? LegacyOutputFormat.Libxl : LegacyOutputFormat.Libxc,
                                    SkipQemu = mode is "libxc-noqemu" or "libxc+qemu-skipped",
                                };
                                var name = $"w{(int)width}-{guest}-{mode}{(toolstack ? "-toolstack" : "")}{(vcpuInfo ? "-vcpuinfo" : "")}{(tsc ? "-tsc" : "")}";
                                cases.Add(name, new LegacyConversionCase(image, converter));
                            }
                        }
                    }
                }
            }
        }
        return cases;
    }

    /// <summary>Random images Xen's converter accepts, with the options to convert them.</summary>
    public static Gen<LegacyConversionCase> AcceptedByXen { get; } =
        from width in Gen.Elements(LegacyWidth.Bits32, LegacyWidth.Bits64)
        from guest in Gen.Elements("pv64", "pv32", "hvm")
        from libxl in Gen.Elements(false, true)
        from qemu in Gen.Elements(false, true)
        from pages in Gen.Choose(1, 200)
        from batch in Gen.Choose(1, 1024)
        from vcpus in Gen.Choose(1, 70)
        from flags in Gen.Choose(0, (1 << 10) - 1)
        from seed in Gen.Choose(1, int.MaxValue)
        let pv = guest != "hvm"
        let readQemu = !pv && (libxl || qemu)
        select new LegacyConversionCase(
            new LegacySyntheticOptions
            {
                Width = width,
                Guest = pv ? LegacyGuestType.Pv : LegacyGuestType.Hvm,
                GuestWidth = guest == "pv32" ? 4 : 8,
                Pages = pages,
                BatchSize = batch,
                Seed = (ulong)seed,
                Vcpus = vcpus,
                VcpuInfo = (flags & 1) != 0,
                TscInfo = (flags & 2) != 0,
                Toolstack = (flags & 4) != 0,
                QemuRecord = readQemu || (flags & 8) != 0,
                ExtendedVcpuContext = (flags & 16) != 0,
                XsaveSize = (flags & 32) != 0 ? 64 + (seed % 1000) : 0,
                UnmappedPfns = (flags & 64) != 0 ? seed % 300 : 0,
                OddPages = (flags & 128) != 0,
                VerifyMode = (flags & 256) != 0,
                HvmParamChunks = (flags & 512) != 0,
                HvmContextSize = seed % 3000,
                QemuSize = seed % 5000,
            },
            new LegacyConverterOptions
            {
                Width = width,
                GuestType = pv ? LegacyGuestType.Pv : LegacyGuestType.Hvm,
                Format = libxl ? LegacyOutputFormat.Libxl : LegacyOutputFormat.Libxc,
                SkipQemu = !readQemu,
            });
}
