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

    /// <summary>Streams Xen's restore code refuses, with the reason (checked: they must still be refused).</summary>
    public static readonly IReadOnlyDictionary<string, string> Refused = new Dictionary<string, string>
    {
        ["real/migrate-pv.s2r.zst"] = "an aborted PV live migration: the capture ends before END (Failed to read Record Header)",
        ["synthetic/libxc-postcopy.bin"] = "the post-copy RFC dialect: upstream restore has no post-copy records",
        ["synthetic/libxl-postcopy.bin"] = "the post-copy RFC dialect: upstream restore has no post-copy records",
        ["synthetic/libxc-pv64-v3.bin"] = "the generator's PV vCPU has cr3 = pfn 0, not an L4 table: Xen's process_vcpu_basic refuses it",
        ["synthetic/libxc-pv32-v3.bin"] = "the generator's PV vCPU has cr3 = pfn 0, not an L3 table: Xen's process_vcpu_basic refuses it",
        ["synthetic/xl-pv.bin"] = "the generator's PV vCPU has cr3 = pfn 0, not an L4 table: Xen's process_vcpu_basic refuses it",
    };

    /// <summary>Every corpus stream with a libxc part that a restore reads (not back channels or legacy input).</summary>
    public static IEnumerable<object[]> Streams() => Corpus.Streams
        .Where(s => s.Format is not (OuterFormat.BackChannel or OuterFormat.Legacy))
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
            if (Refused.TryGetValue(name, out string? why))
            {
                Assert.True(exit == 1 && output.Contains(": rejected: ", StringComparison.Ordinal),
                    $"{name} is listed as refused by Xen's restore ({why}) but the runner said: {output}");
                return;
            }

            Assert.True(exit == 0, $"Xen's restore refused {name}: {output}");
            Dictionary<ulong, byte[]> native = ReadDump(dump);

            RestoreResult result;
            using (ByteSource source = ByteSource.Open(stream.Path))
            {
                result = RestoreEngine.Restore(source, new RestoreOptions { Reader = stream.ReaderOptions });
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
        psi.Environment["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + Runner);
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
