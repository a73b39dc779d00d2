using System.Buffers.Binary;
using System.Diagnostics;
using StreamBench.Domain;
using StreamBench.Engine.Restore;
using StreamBench.Formats.Streams;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Differential;

/// <summary>
/// A [Fact]/[Theory] that needs the xen-native runner (Xen's own libxenguest restore code built by
/// fuzz/xen-native/build.sh). Skipped, visibly, when it has not been built; with STREAMBENCH_REQUIRE_XEN_NATIVE=1 (CI)
/// a missing runner is a failure instead.
/// </summary>
public sealed class XenNativeTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets Skip when the runner is missing and not required.</summary>
    public XenNativeTheoryAttribute()
    {
        if (!File.Exists(XenNativeRestoreTests.Runner) && Environment.GetEnvironmentVariable("STREAMBENCH_REQUIRE_XEN_NATIVE") != "1")
        {
            Skip = "Xen's native restore code is not built: run fuzz/xen-native/build.sh (fetches Debian's Xen source)";
        }
    }
}

/// <summary>
/// A [Theory] that needs harness (b)'s runner (Xen's libxl stream reader, fuzz/xen-native/harness_libxl.c). Skipped,
/// visibly, when it has not been built; with STREAMBENCH_REQUIRE_XEN_NATIVE=1 (CI) a missing runner is a failure.
/// </summary>
public sealed class XenNativeLibxlTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets Skip when the runner is missing and not required.</summary>
    public XenNativeLibxlTheoryAttribute()
    {
        if (!File.Exists(XenNativeRestoreTests.LibxlRunner) && Environment.GetEnvironmentVariable("STREAMBENCH_REQUIRE_XEN_NATIVE") != "1")
        {
            Skip = "Xen's libxl stream reader is not built: run fuzz/xen-native/build.sh (needs Debian's Xen source and libyajl-dev)";
        }
    }
}

/// <summary>
/// The good-stream test of the xen-native harness (docs/FUZZING.md, "Xen's own restore code"): every save, migration
/// and checkpointed stream of corpus/ goes through Xen 4.17's own xc_domain_restore() against the fake hypervisor, and
/// the memory it leaves is compared with the simulated engine's restore of the same stream: the same populated pfns,
/// and the same bytes in every page the engine classes as guest data (DataPfns: Normal pages that are not page
/// tables, start_info, p2m frames or other structures; on PV those hold machine frame numbers, which differ between
/// the two hosts by design).
/// </summary>
[Trait("Category", "XenNative")]
public sealed class XenNativeRestoreTests
{
    /// <summary>The standalone runner that build.sh writes.</summary>
    public static string Runner { get; } = Path.Combine(Corpus.Root, ".cache", "xen-native", "bin", "xen-native-run");

    /// <summary>Harness (b)'s standalone runner: Xen's libxl_stream_read.c over the libxl part of a stream.</summary>
    public static string LibxlRunner { get; } = Path.Combine(Corpus.Root, ".cache", "xen-native", "bin", "xen-native-libxl-run");

    /// <summary>Streams Xen's restore code refuses, with the reason (checked: they must still be refused).</summary>
    public static readonly IReadOnlyDictionary<string, string> Refused = new Dictionary<string, string>
    {
        ["real/migrate-pv.s2r.zst"] = "an aborted PV live migration: the capture ends before END (Failed to read Record Header)",
        ["synthetic/libxc-postcopy.bin"] = "the post-copy RFC dialect: upstream restore has no post-copy records",
        ["synthetic/libxl-postcopy.bin"] = "the post-copy RFC dialect: upstream restore has no post-copy records",
        ["synthetic/libxc-pv64-v3.bin"] = "the generator's PV vCPU has cr3 = pfn 0, not an L4 table: Xen's process_vcpu_basic refuses it",
        ["synthetic/libxc-pv32-v3.bin"] = "the generator's PV vCPU has cr3 = pfn 0, not an L3 table: Xen's process_vcpu_basic refuses it",
        ["synthetic/xl-pv.bin"] = "the generator's PV vCPU has cr3 = pfn 0, not an L4 table: Xen's process_vcpu_basic refuses it",
        ["legacy/hvm32-noqemu.libxc"] = "the legacy corpus' HVM context is filler, not an hvm_save image: hvm_load (the fake's) refuses it",
        ["legacy/hvm64-qemu-toolstack.libxl"] = "the legacy corpus' HVM context is filler, not an hvm_save image: hvm_load (the fake's) refuses it",
        ["legacy/remus-pv64-compressed.libxl"] = "failover after its checkpoints, then the legacy corpus' filler start_info pfn is beyond max_pfn",
        ["legacy/pv64-guest32-toolstack.libxl"] = "the legacy corpus' start_info pfn (in the filler vCPU context) is beyond max_pfn",
    };

    /// <summary>
    /// Streams on which Xen's restore code reads out of bounds (docs/FUZZING.md, finding XN-1): AddressSanitizer must
    /// still report it (exit 86 here), so the listing stays honest until Xen is fixed.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Crashes = new Dictionary<string, string>
    {
        ["legacy/pv32-guest64.libxc"] = "xc_pfn_to_mfn",
    };

    /// <summary>
    /// Streams Xen's restore code accepts and the engine refuses (the engine's end-of-stream consistency check is
    /// stricter than Xen's, which ignores a failing xc_clear_domain_page): a divergence kept visible here.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> EngineOnlyRefuses = new Dictionary<string, string>
    {
        ["synthetic/xl-hvm.bin"] = "HVM params name unpopulated special pages",
        ["synthetic/xl-migrate-s2r.bin"] = "HVM params name unpopulated special pages",
        ["synthetic/xl-debug-verify.bin"] = "HVM params name unpopulated special pages",
        ["synthetic/libxc-hvm-v3.bin"] = "HVM params name unpopulated special pages",
        ["synthetic/libxc-hvm-v2.bin"] = "HVM params name unpopulated special pages",
        ["synthetic/libxc-xtab.bin"] = "HVM params name unpopulated special pages",
        ["synthetic/libxl-hvm.bin"] = "HVM params name unpopulated special pages",
        ["synthetic/libxl-pvh.bin"] = "HVM params name unpopulated special pages",
        ["synthetic/libxl-remus-end.bin"] = "HVM params name unpopulated special pages",
        ["synthetic/libxl-remus-failover.bin"] = "HVM params name unpopulated special pages",
        ["synthetic/libxl-remus-partial.bin"] = "HVM params name unpopulated special pages",
        ["synthetic/libxc-remus-failover.bin"] = "HVM params name unpopulated special pages",
    };

    /// <summary>Every corpus stream with a libxc part that a restore reads (not back channels or legacy input).</summary>
    public static IEnumerable<object[]> Streams() => Corpus.Streams
        .Where(s => s.Format is not (OuterFormat.BackChannel or OuterFormat.Legacy) && !s.Name.EndsWith(".legacy", StringComparison.Ordinal))
        .Where(s => !s.Name.EndsWith(".r2s.zst", StringComparison.Ordinal) && !s.Name.EndsWith("-r2s.bin", StringComparison.Ordinal))
        .Select(s => new object[] { s.Name });

    [XenNativeTheory]
    [MemberData(nameof(Streams))]
    public void XensRestoreAcceptsTheStreamAndLeavesTheEnginesMemory(string name)
    {
        CorpusStream stream = Corpus.Get(name);
        bool checkpointed = name.Contains("remus", StringComparison.Ordinal);
        string dump = Path.Combine(Path.GetTempPath(), $"xen-native-{Environment.ProcessId}-{Guid.NewGuid():N}.mem");
        try
        {
            (int exit, string output) = Run(checkpointed, stream.Path, dump);
            if (Crashes.TryGetValue(name, out string? frame))
            {
                Assert.True(exit == 86 && output.Contains(frame, StringComparison.Ordinal),
                    $"{name} is listed as crashing Xen's restore in {frame} but the runner said (exit {exit}): {output}");
                return;
            }

            if (Refused.TryGetValue(name, out string? why))
            {
                Assert.True(exit == 1 && output.Contains(": rejected: ", StringComparison.Ordinal),
                    $"{name} is listed as refused by Xen's restore ({why}) but the runner said: {output}");
                return;
            }

            Assert.True(exit == 0, $"Xen's restore refused {name}: {output}");
            Dictionary<ulong, byte[]> native = ReadDump(dump);

            // A bare libxc/libxl stream carries no config: the engine is given the fake's limits (xl would need a config).
            bool bare = !name.StartsWith("real/", StringComparison.Ordinal) && !name.StartsWith("synthetic/xl-", StringComparison.Ordinal);
            var options = new RestoreOptions
            {
                Reader = stream.ReaderOptions,
                MemoryPages = bare ? 65536 : null,
                Vcpus = bare ? 8 : null,
            };
            if (EngineOnlyRefuses.TryGetValue(name, out string? engineReason))
            {
                using ByteSource refused = ByteSource.Open(stream.Path);
                Assert.Throws<Formats.StreamFormatException>(() => RestoreEngine.Restore(refused, options).Domain.Dispose());
                Assert.False(string.IsNullOrEmpty(engineReason));
                return;
            }

            RestoreResult result;
            using (ByteSource source = ByteSource.Open(stream.Path))
            {
                result = RestoreEngine.Restore(source, options);
            }

            using GuestDomain domain = result.Domain;
            ulong[] enginePfns = domain.PopulatedPfns().ToArray();
            Assert.True(native.Count == enginePfns.Length && enginePfns.All(native.ContainsKey),
                $"{name}: Xen populated {native.Count} pfns, the engine {enginePfns.Length}; only in Xen: " +
                string.Join(", ", native.Keys.Except(enginePfns).Take(8).Select(p => $"0x{p:x}")) + "; only in the engine: " +
                string.Join(", ", enginePfns.Except(native.Keys).Take(8).Select(p => $"0x{p:x}")));

            var differing = new List<ulong>();
            int compared = 0;
            foreach (ulong pfn in domain.DataPfns())
            {
                compared++;
                if (!domain.ReadPage(pfn).SequenceEqual(native[pfn]))
                {
                    differing.Add(pfn);
                }
            }

            Assert.True(compared > 0, $"{name}: no data pages to compare");
            Assert.True(differing.Count == 0,
                $"{name}: {differing.Count} of {compared} data pages differ between Xen's restore and the engine's: " +
                string.Join(", ", differing.Take(16).Select(p => $"0x{p:x}")));
        }
        finally
        {
            File.Delete(dump);
        }
    }

    /// <summary>The libxl-framed Remus streams of corpus/ (a bare libxc one has no libxl records for COLO's).</summary>
    public static TheoryData<string> RemusStreams() => new()
    {
        "synthetic/libxl-remus-failover.bin", "synthetic/libxl-remus-end.bin", "synthetic/libxl-remus-partial.bin",
        "real/remus-pvh.s2r.zst", "real/remus-hvm.s2r.zst",
    };

    /// <summary>
    /// Harness (c)'s COLO mode (XC_STREAM_COLO, the secondary's restore): each Remus stream, made a COLO stream by
    /// fuzz/xen-native/colo_seed.py (the seed maker of the xen-native-colo target: a CHECKPOINT_STATE saying
    /// CHECKPOINT_NEW after each checkpoint), restores through every checkpoint's resume, wait and suspend, and leaves
    /// the memory the Remus restore of the same stream leaves.
    /// </summary>
    [XenNativeTheory]
    [MemberData(nameof(RemusStreams))]
    public void AColoSecondaryRestoresWhatRemusRestores(string name)
    {
        CorpusStream stream = Corpus.Get(name);
        string tmp = Path.Combine(Path.GetTempPath(), $"xen-native-colo-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            string remusDump = tmp + ".remus.mem", coloDump = tmp + ".colo.mem", colo = tmp + ".colo";
            var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(Path.Combine(Corpus.Root, "fuzz", "xen-native", "colo_seed.py"));
            psi.ArgumentList.Add(stream.Path);
            psi.ArgumentList.Add(colo);
            (int seedExit, string seedOut) = Wait(psi);
            Assert.True(seedExit == 0, $"colo_seed.py {name}: {seedOut}");

            (int remusExit, string remusOut) = Run(Runner, ["--checkpointed", stream.Path], remusDump);
            Assert.True(remusExit == 0, $"Remus restore of {name}: {remusOut}");
            (int coloExit, string coloOut) = Run(Runner, ["--colo", colo], coloDump);
            Assert.True(coloExit == 0, $"COLO restore of {name}: {coloOut}");
            Assert.Contains(" checkpoints, ", coloOut, StringComparison.Ordinal);

            Dictionary<ulong, byte[]> remus = ReadDump(remusDump), coloMemory = ReadDump(coloDump);
            Assert.Equal(remus.Keys.Order(), coloMemory.Keys.Order());
            Assert.All(remus, kv => Assert.True(kv.Value.SequenceEqual(coloMemory[kv.Key]), $"{name}: pfn 0x{kv.Key:x} differs"));
        }
        finally
        {
            foreach (string f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(tmp) + "*"))
            {
                File.Delete(f);
            }
        }
    }

    /// <summary>
    /// The reproducers of findings XN-1 and XN-2 (two of its paths; fuzz/xen-native/findings/make_reproducers.py): Xen's restore code
    /// must still fault where docs/FUZZING.md says, and our engine must refuse both with a clear error.
    /// </summary>
    [XenNativeTheory]
    [InlineData("xn1", "x86_pv_localise_page", "beyond max_pfn")]
    [InlineData("xn2", "handle_x86_pv_p2m_frames", "beyond max_pfn")]
    [InlineData("xn2-start-info", "process_start_info", "No X86_PV_P2M_FRAMES record")]
    public void TheFindingsStillReproduceAndTheEngineRefusesThem(string finding, string frame, string engineSays)
    {
        string path = Path.Combine(Path.GetTempPath(), $"xen-native-{finding}-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        try
        {
            FindingReproducers.Write(finding, path);
            (int exit, string output) = Run(checkpointed: false, path, dump: path + ".mem");
            Assert.True(exit == 86 && output.Contains("in " + frame, StringComparison.Ordinal),
                $"{finding}: expected a sanitizer report in {frame}, the runner said (exit {exit}): {output}");

            using ByteSource source = ByteSource.Open(path);
            var e = Assert.Throws<Formats.StreamFormatException>(() =>
                RestoreEngine.Restore(source, new RestoreOptions { MemoryPages = 65536, Vcpus = 8 }).Domain.Dispose());
            Assert.Contains(engineSays, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".mem");
        }
    }

    /// <summary>Every corpus stream of harness (a)'s test that has a libxl part (xl and libxl files): a "LibxlFmt"
    /// header within its first MiB (an xl file's header and JSON config come before it).</summary>
    public static IEnumerable<object[]> LibxlStreams() => Streams()
        .Select(o => (string)o[0])
        .Where(n => HasLibxlHeader(Corpus.Get(n).Path))
        .Select(n => new object[] { n });

    private static bool HasLibxlHeader(string path)
    {
        using FileStream f = File.OpenRead(path);
        var head = new byte[(int)Math.Min(f.Length, 1 << 20)];
        f.ReadExactly(head);
        return head.AsSpan().IndexOf("LibxlFmt"u8) >= 0;
    }

    /// <summary>
    /// Harness (b): every xl/libxl stream of corpus/ that Xen's libxc restore accepts (harness (a)) also goes through
    /// Xen's libxl stream reader (its LIBXC_CONTEXT handed to the same libxc code, its emulator and checkpoint records
    /// processed by libxl) and leaves exactly the same memory in the fake domain; the streams (a) refuses, (b) refuses
    /// too. Remus streams are restored as Remus streams in both.
    /// </summary>
    [XenNativeLibxlTheory]
    [MemberData(nameof(LibxlStreams))]
    public void LibxlsStreamReaderRestoresWhatLibxcRestores(string name)
    {
        CorpusStream stream = Corpus.Get(name);
        bool checkpointed = name.Contains("remus", StringComparison.Ordinal);
        string dumpA = Path.Combine(Path.GetTempPath(), $"xen-native-a-{Environment.ProcessId}-{Guid.NewGuid():N}.mem");
        string dumpB = Path.ChangeExtension(dumpA, ".libxl.mem");
        try
        {
            (int exitA, string outA) = Run(checkpointed, stream.Path, dumpA);
            (int exitB, string outB) = Run(LibxlRunner, [stream.Path], dumpB);
            Assert.True(exitA is 0 or 1, $"{name}: harness (a) crashed (exit {exitA}): {outA}");
            if (exitA == 1)
            {
                Assert.True(exitB == 1 && outB.Contains(": rejected: ", StringComparison.Ordinal),
                    $"{name}: libxc refuses it ({outA}) but libxl's reader said (exit {exitB}): {outB}");
                return;
            }

            Assert.True(exitB == 0 && outB.Contains(": ok: ", StringComparison.Ordinal), $"Xen's libxl reader refused {name}: {outB}");
            Assert.Contains(checkpointed ? ": ok: remus " : ": ok: plain ", outB, StringComparison.Ordinal);
            Assert.Contains("libxc restored", outB, StringComparison.Ordinal);
            byte[] a = File.ReadAllBytes(dumpA), b = File.ReadAllBytes(dumpB);
            Assert.True(a.Length > 0 && a.AsSpan().SequenceEqual(b),
                $"{name}: the fake domain's memory after libxl's reader ({b.Length} bytes of dump) differs from libxc's alone ({a.Length})");
        }
        finally
        {
            File.Delete(dumpA);
            File.Delete(dumpB);
        }
    }

    /// <summary>
    /// Harness (b) runs libxl's record handling, not only libxc's: the emulator records of libxl-hvm.bin reach
    /// libxl__restore_emulator_xenstore_data (two keys) and the emulator context file (its 300 bytes, the record's
    /// body after the emulator header), and the Remus streams' checkpoints are acknowledged by libxl's checkpoint path.
    /// </summary>
    [XenNativeLibxlTheory]
    [InlineData("synthetic/libxl-hvm.bin", "plain hvm stream", "0 checkpoints, 2 emulator xenstore keys, emulator context 300 bytes")]
    [InlineData("synthetic/libxl-remus-failover.bin", "remus hvm stream", "3 checkpoints, 0 emulator xenstore keys, emulator context 300 bytes")]
    [InlineData("synthetic/libxl-remus-end.bin", "remus hvm stream", "2 checkpoints")]
    public void LibxlsRecordsAreProcessedByLibxl(string name, string mode, string counts)
    {
        (int exit, string output) = Run(LibxlRunner, [Corpus.Get(name).Path], dump: null);
        Assert.True(exit == 0, $"{name}: {output}");
        Assert.Contains(": ok: " + mode, output, StringComparison.Ordinal);
        Assert.Contains(counts, output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Finding XL-1 (docs/FUZZING.md): libxl's reader takes EOF inside a record as the record's end. libxl-hvm.bin
    /// without its END record restores (the missing header reads as zeroes: END); cut 100 bytes further, inside the
    /// EMULATOR_CONTEXT body, it still restores and the emulator file still gets the record's 300 bytes, the last 96
    /// of them never written by the stream (ASan's malloc fill byte, 0xbe: uninitialised heap). Our engine refuses both.
    /// </summary>
    [XenNativeLibxlTheory]
    [InlineData("xl1-end", 8)]
    [InlineData("xl1-body", 108)]
    public void TruncatedLibxlStreamsRestoreInLibxlAndTheEngineRefusesThem(string finding, int cut)
    {
        string name = "synthetic/libxl-hvm.bin";
        string path = Path.Combine(Path.GetTempPath(), $"xen-native-xl1-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        try
        {
            FindingReproducers.Write(finding, path); // libxl-hvm.bin without its last `cut` bytes
            Assert.Equal(new FileInfo(Corpus.Get(name).Path).Length - cut, new FileInfo(path).Length);
            (int exitWhole, string outWhole) = Run(LibxlRunner, ["--emulator", path + ".emu-whole", Corpus.Get(name).Path], dump: null);
            (int exit, string output) = Run(LibxlRunner, ["--emulator", path + ".emu", path], dump: null);
            Assert.True(exitWhole == 0, outWhole);
            Assert.True(exit == 0 && output.Contains(": ok: plain hvm stream", StringComparison.Ordinal),
                $"XL-1 no longer reproduces: libxl's reader said (exit {exit}): {output}");
            Assert.Contains("emulator context 300 bytes", output, StringComparison.Ordinal);
            byte[] expected = File.ReadAllBytes(path + ".emu-whole"), got = File.ReadAllBytes(path + ".emu");
            int lost = Math.Max(0, cut - 8 - 4); // END record, then the body's 4 bytes of padding
            Assert.Equal(expected.Length, got.Length);
            Assert.True(got.AsSpan(0, got.Length - lost).SequenceEqual(expected.AsSpan(0, expected.Length - lost)));
            Assert.True(got.AsSpan(got.Length - lost).ToArray().All(b => b == 0xbe),
                "the emulator file's tail should be heap never written by the stream (ASan's fill byte 0xbe)");

            using ByteSource source = ByteSource.Open(path);
            Assert.Throws<Formats.StreamFormatException>(() =>
                RestoreEngine.Restore(source, new RestoreOptions { MemoryPages = 65536, Vcpus = 8 }).Domain.Dispose());
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".emu");
            File.Delete(path + ".emu-whole");
        }
    }

    /// <summary>
    /// A COLO primary reading its secondary's back channel through harness (b): the corpus channel is read to its end
    /// (3 checkpoints' states, 2 dirty pfn lists), and the reproducers of findings XL-2..4 (docs/FUZZING.md) still
    /// crash libxl's reader where the docs say: an empty CHECKPOINT_STATE (a NULL body dereferenced), END while a
    /// state is awaited (stream_complete's assert), an EMULATOR_XENSTORE_DATA record (the absent domain-create state).
    /// </summary>
    [XenNativeLibxlTheory]
    [InlineData("", "ok: back channel, 6 checkpoint states, 2 dirty pfn lists")]
    [InlineData("xl2", "libxl_stream_read.c:642")]
    [InlineData("xl3", "Assertion `rc' failed")]
    [InlineData("xl4", "libxl_stream_read.c:587")]
    public void TheBackChannelIsReadAndItsFindingsStillReproduce(string finding, string expected)
    {
        string path = Path.Combine(Path.GetTempPath(), $"xen-native-bc-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        try
        {
            if (finding.Length == 0)
            {
                File.Copy(Corpus.Get("synthetic/colo-back-channel.bin").Path, path);
            }
            else
            {
                FindingReproducers.Write(finding, path);
            }

            (int exit, string output) = Run(LibxlRunner, ["--back-channel", path], dump: null);
            Assert.True(finding.Length == 0 ? exit == 0 : exit > 1, $"exit {exit}: {output}");
            Assert.Contains(expected, output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Finding XL-6 (docs/FUZZING.md): a Remus stream that ends after libxc's CHECKPOINT record, inside the libxl part
    /// of the checkpoint, makes libxl's reader take every EOF as a zeroed record header and buffer it for ever; the
    /// fake event loop reports it after 1000 reads at the end of the input instead of spinning.
    /// </summary>
    [XenNativeLibxlTheory]
    [InlineData("xl6")]
    public void ARemusStreamEndingInsideACheckpointMakesLibxlSpin(string finding)
    {
        string path = Path.Combine(Path.GetTempPath(), $"xen-native-xl6-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        try
        {
            FindingReproducers.Write(finding, path); // libxl-remus-failover.bin cut after its last libxc CHECKPOINT
            (int exit, string output) = Run(LibxlRunner, [path], dump: null);
            Assert.True(exit > 1 && output.Contains("it spins at EOF (finding XL-6)", StringComparison.Ordinal),
                $"XL-6 no longer reproduces (exit {exit}): {output}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static (int Exit, string Output) Run(string runner, IReadOnlyList<string> args, string? dump)
    {
        var psi = new ProcessStartInfo(runner) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("run");
        if (dump is not null)
        {
            psi.ArgumentList.Add("--dump");
            psi.ArgumentList.Add(dump);
        }

        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return Wait(psi);
    }

    private static (int Exit, string Output) Run(bool checkpointed, string path, string dump)
    {
        var psi = new ProcessStartInfo(Runner) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("run");
        if (checkpointed)
        {
            psi.ArgumentList.Add("--checkpointed");
        }

        psi.ArgumentList.Add("--dump");
        psi.ArgumentList.Add(dump);
        psi.ArgumentList.Add(path);
        return Wait(psi);
    }

    private static (int Exit, string Output) Wait(ProcessStartInfo psi)
    {
        psi.Environment["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=86";
        psi.Environment["UBSAN_OPTIONS"] = "exitcode=86:print_stacktrace=1";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + psi.FileName);
        Task<string> err = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Trim() + (process.ExitCode > 1 ? "\n" + err.Result : ""));
    }

    private static Dictionary<ulong, byte[]> ReadDump(string path)
    {
        var pages = new Dictionary<ulong, byte[]>();
        using FileStream f = File.OpenRead(path);
        var head = new byte[8];
        while (f.Position < f.Length)
        {
            f.ReadExactly(head);
            var page = new byte[4096];
            f.ReadExactly(page);
            pages.Add(BinaryPrimitives.ReadUInt64LittleEndian(head), page);
        }

        return pages;
    }
}
