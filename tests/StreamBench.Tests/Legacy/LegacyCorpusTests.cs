using System.Security.Cryptography;
using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using Xunit;
using Xunit.Abstractions;

namespace StreamBench.Tests.Legacy;

/// <summary>
/// corpus/legacy: small legacy images and their conversions, each with a MANIFEST.tsv line (file, what, how, sha256).
/// The images are regenerated from the specs below and must match byte for byte; the .libxc/.libxl files made by
/// Xen's converter pin byte identity even on machines without the oracle. STREAMBENCH_WRITE_LEGACY_CORPUS=1 rewrites
/// the folder (the oracle must be available).
/// </summary>
public sealed class LegacyCorpusTests(ITestOutputHelper output)
{
    private sealed record Entry(string File, string What, string How, Func<byte[]> Make, string? Source = null, LegacyConverterOptions? Converter = null);

    private static string Dir => Path.Combine(LegacyOracle.RepoRoot, "corpus", "legacy");

    private static readonly LegacySyntheticOptions Hvm64 = new()
    {
        Width = LegacyWidth.Bits64, Guest = LegacyGuestType.Hvm, Pages = 12, BatchSize = 5, Seed = 11, Vcpus = 2, Toolstack = true,
        QemuSize = 600, HvmContextSize = 320,
    };

    private static readonly LegacySyntheticOptions Pv32Guest64 = new()
    {
        Width = LegacyWidth.Bits32, Guest = LegacyGuestType.Pv, GuestWidth = 8, Pages = 9, BatchSize = 4, Seed = 12, Vcpus = 2,
        XsaveSize = 64, UnmappedPfns = 3, OddPages = true,
    };

    private static readonly LegacySyntheticOptions Pv64Guest32 = new()
    {
        Width = LegacyWidth.Bits64, Guest = LegacyGuestType.Pv, GuestWidth = 4, Pages = 10, Seed = 13, Toolstack = true, TscInfo = false,
    };

    private static readonly LegacySyntheticOptions Hvm32NoQemu = new()
    {
        Width = LegacyWidth.Bits32, Guest = LegacyGuestType.Hvm, Pages = 8, Seed = 14, QemuRecord = false, VerifyMode = true, VcpuInfo = false,
    };

    private static readonly LegacySyntheticOptions RemusPv64 = new()
    {
        Width = LegacyWidth.Bits64, Guest = LegacyGuestType.Pv, Pages = 8, Seed = 15, Checkpoints = 3, Compression = true, DirtyPagesPerCheckpoint = 4, ExtendedVcpuContext = false,
    };

    private static byte[] Tmem() => LegacyRefusals.Build(LegacyWidth.Bits64, w =>
    {
        w.WriteHeader(16);
        w.WritePageBatch([1], new byte[LegacyLayout.PageSize]);
        w.WriteTmemClientHeader(1, 16, 0, 1, 0);
        w.WriteTmemPool(0, 1, 1, 0x1111, 0x2222);
        w.WriteTmemPage(1, 2, 3, 0, new byte[LegacyLayout.PageSize]);
        w.WriteTmemListEnd();
        w.WriteTmemExtraStart();
        w.WriteTmemInvalidation(0, 1, 2, 3, 0);
        w.WriteTmemListEnd();
        w.WriteEndOfBody();
        LegacyRefusals.HvmTail(w);
    });

    private static string Describe(LegacySyntheticOptions o) => "LegacySyntheticImage " + o.ToString()["LegacySyntheticOptions ".Length..]
        + " (tests/StreamBench.Tests/Legacy/LegacyCorpusTests.cs)";

    private static readonly Entry[] Entries =
    [
        new("hvm64-qemu-toolstack.legacy", "64-bit toolstack HVM image: 12 pages, TSC, VCPU_INFO (2 vCPUs), every HVM-param chunk, toolstack physmap (2 entries), LAST_CHECKPOINT, QEMU DeviceModelRecord0002",
            Describe(Hvm64), () => LegacySyntheticImage.Generate(Hvm64)),
        new("hvm64-qemu-toolstack.libxl", "hvm64-qemu-toolstack.legacy converted by Xen 4.17 convert-legacy-stream (libxl v2 + libxc v3, EMULATOR_XENSTORE_DATA, EMULATOR_CONTEXT)",
            "tools/oracle/convert-legacy-stream -w 64 -g hvm -f libxl", () => [], "hvm64-qemu-toolstack.legacy",
            new LegacyConverterOptions { Width = LegacyWidth.Bits64, GuestType = LegacyGuestType.Hvm, Format = LegacyOutputFormat.Libxl }),
        new("pv32-guest64.legacy", "32-bit toolstack PV image of a 64-bit guest: extv, xcnt (64-byte xsave), 2 vCPUs, odd page types and XTAB padding, 3 unmapped pfns",
            Describe(Pv32Guest64), () => LegacySyntheticImage.Generate(Pv32Guest64)),
        new("pv32-guest64.libxc", "pv32-guest64.legacy converted by Xen 4.17 convert-legacy-stream (bare libxc v3)",
            "tools/oracle/convert-legacy-stream -w 32 -g pv -f libxc", () => [], "pv32-guest64.legacy",
            new LegacyConverterOptions { Width = LegacyWidth.Bits32, GuestType = LegacyGuestType.Pv }),
        new("pv64-guest32-toolstack.legacy", "64-bit toolstack PV image of a 32-bit PAE guest with a toolstack physmap chunk (becomes EMULATOR_XENSTORE_DATA even for PV)",
            Describe(Pv64Guest32), () => LegacySyntheticImage.Generate(Pv64Guest32)),
        new("pv64-guest32-toolstack.libxl", "pv64-guest32-toolstack.legacy converted by Xen 4.17 convert-legacy-stream",
            "tools/oracle/convert-legacy-stream -w 64 -g pv -f libxl", () => [], "pv64-guest32-toolstack.legacy",
            new LegacyConverterOptions { Width = LegacyWidth.Bits64, GuestType = LegacyGuestType.Pv, Format = LegacyOutputFormat.Libxl }),
        new("hvm32-noqemu.legacy", "32-bit toolstack HVM image without QEMU record or VCPU_INFO, with ENABLE_VERIFY_MODE and resent pages",
            Describe(Hvm32NoQemu), () => LegacySyntheticImage.Generate(Hvm32NoQemu)),
        new("hvm32-noqemu.libxc", "hvm32-noqemu.legacy converted by Xen 4.17 convert-legacy-stream --skip-qemu",
            "tools/oracle/convert-legacy-stream -w 32 -g hvm -f libxc --skip-qemu", () => [], "hvm32-noqemu.legacy",
            new LegacyConverterOptions { Width = LegacyWidth.Bits32, GuestType = LegacyGuestType.Hvm, SkipQemu = true }),
        new("remus-pv64-compressed.legacy", "64-bit PV Remus stream: 8 pages, ENABLE_COMPRESSION in the first body, 3 checkpoints in format B (pfn batches + COMPRESSED_DATA), ends at failover; Xen's converter refuses it (\"todo\")",
            Describe(RemusPv64), () => LegacySyntheticImage.Generate(RemusPv64)),
        new("remus-pv64-compressed.libxl", "remus-pv64-compressed.legacy converted by our converter with --checkpoints (checkpointed libxl stream: CHECKPOINT / CHECKPOINT_END, no END)",
            "streambench convert-legacy -f libxl --checkpoints", () => [], "remus-pv64-compressed.legacy",
            new LegacyConverterOptions { Format = LegacyOutputFormat.Libxl, Checkpoints = true }),
        new("hvm64-tmem.legacy", "64-bit HVM image with a TMEM chunk (one pool, one page) and TMEM_EXTRA (one invalidation): readable, not convertible (both converters refuse)",
            "LegacyStreamWriter, LegacyCorpusTests.Tmem()", Tmem),
    ];

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public void Every_corpus_file_matches_its_manifest_line_and_its_recipe()
    {
        if (Environment.GetEnvironmentVariable("STREAMBENCH_WRITE_LEGACY_CORPUS") == "1")
        {
            Write();
        }
        var lines = File.ReadAllLines(Path.Combine(Dir, "MANIFEST.tsv")).Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t')).ToList();
        Assert.Equal(Entries.Select(e => e.File), lines.Select(l => l[0]));
        foreach (var (entry, line) in Entries.Zip(lines))
        {
            var bytes = File.ReadAllBytes(Path.Combine(Dir, entry.File));
            Assert.Equal(line[3], Sha256(bytes));
            if (entry.Source is null)
            {
                Assert.Equal(entry.Make(), bytes);
            }
            else
            {
                // Our converter reproduces the stored conversion (Xen's, where Xen converts).
                var source = File.ReadAllBytes(Path.Combine(Dir, entry.Source));
                Assert.Equal(bytes, LegacyConverter.Convert(source, entry.Converter!));
            }
        }
    }

    [Fact]
    public void Every_corpus_image_reads_to_the_end()
    {
        foreach (var entry in Entries.Where(e => e.File.EndsWith(".legacy", StringComparison.Ordinal)))
        {
            using var r = LegacyStreamReader.Open(Path.Combine(Dir, entry.File));
            var items = 0;
            while (r.Read())
            {
                items++;
            }
            output.WriteLine($"{entry.File}: {items} items, {r.CompleteImages} image(s), {r.Width} {r.GuestType}, ending {r.Ending}");
            Assert.Equal(StreamEnding.Complete, r.Ending);
        }
    }

    [Fact]
    public void The_TMEM_image_is_refused_at_the_TMEM_chunk()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "hvm64-tmem.legacy"));
        var e = Assert.Throws<StreamFormatException>(() => LegacyConverter.Convert(bytes, new LegacyConverterOptions()));
        Assert.Equal(("XC_SAVE_ID_TMEM", 8 + 4 + 8 + 4096L), (e.RecordType, e.Offset));
    }

    private void Write()
    {
        Assert.True(LegacyOracle.Ready(output), "writing the corpus needs the oracle");
        Directory.CreateDirectory(Dir);
        var manifest = new List<string> { "file\twhat\thow\tsha256" };
        foreach (var entry in Entries)
        {
            byte[] bytes;
            if (entry.Source is null)
            {
                bytes = entry.Make();
            }
            else
            {
                var source = File.ReadAllBytes(Path.Combine(Dir, entry.Source));
                if (entry.How.StartsWith("tools/oracle", StringComparison.Ordinal))
                {
                    var args = entry.How.Split(' ').Skip(1).ToArray();
                    var xen = LegacyOracle.Convert(source, args);
                    Assert.True(xen.ExitCode == 0, xen.Stderr);
                    bytes = xen.Output;
                }
                else
                {
                    bytes = LegacyConverter.Convert(source, entry.Converter!);
                }
            }
            File.WriteAllBytes(Path.Combine(Dir, entry.File), bytes);
            manifest.Add($"{entry.File}\t{entry.What}\t{entry.How}\t{Sha256(bytes)}");
        }
        File.WriteAllLines(Path.Combine(Dir, "MANIFEST.tsv"), manifest);
    }
}
