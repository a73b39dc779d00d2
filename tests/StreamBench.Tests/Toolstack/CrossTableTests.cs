using System.Diagnostics;
using StreamBench.Tests.Legacy;
using Xunit;

namespace StreamBench.Tests.Toolstack;

/// <summary>A [Fact] that needs bash and python3 on PATH (tools/xenlab's scripts); skipped, with the reason, without them.</summary>
public sealed class BashPythonFactAttribute : FactAttribute
{
    /// <summary>Sets Skip when bash or python3 is missing.</summary>
    public BashPythonFactAttribute()
    {
        string[] path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        foreach (string tool in new[] { "bash", "python3" })
        {
            if (!path.Any(d => File.Exists(Path.Combine(d, tool))))
            {
                Skip = $"{tool} is not on PATH: tools/xenlab/cross.sh needs bash and python3";
                return;
            }
        }
    }
}

/// <summary>
/// tools/xenlab/cross.sh --table-only joins lab.sh results (results.json, the runner's per-stream detail, the xl logs)
/// into the cross-version table: each stream's class (alive, refused with Xen's first error line, hung, crashed,
/// no result) and the exit code (0 only when every row is alive or a clean refusal). No QEMU boot: the lab output is
/// written here in the runner's own formats.
/// </summary>
public sealed class CrossTableTests
{
    private static string Script => Path.Combine(LegacyOracle.RepoRoot, "tools", "xenlab", "cross.sh");

    private static (int Code, string Stdout, string Stderr) RunCross(string outDir)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { Script, "--table-only", "--out", outDir })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start bash");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("cross.sh --table-only did not finish in 2 minutes");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>One lab run's folder as lab.sh leaves it (only the files cross.sh reads).</summary>
    private static void LabRun(string dir, string sources, string replayDetail, string? engineDetail, Dictionary<string, string> logs,
        string labLog = "")
    {
        Directory.CreateDirectory(Path.Combine(dir, "boot-2", "files"));
        File.WriteAllText(Path.Combine(dir, "lab.log"), labLog);
        File.WriteAllText(Path.Combine(dir, "SOURCES.txt"), sources);
        File.WriteAllText(Path.Combine(dir, "start.txt"), "2026-12-07T01:00:00Z\n1.00 2.00 3.00 1/100 1\n");
        File.WriteAllText(Path.Combine(dir, "end.txt"), "2026-12-07T01:05:00Z\n4.00 5.00 6.00 1/100 1\n");
        string Scenario(string name, string detail) =>
            $"{{\"scenario\": \"{name}\", \"status\": \"FAIL\", \"seconds\": \"50.5\", \"alive\": \"-\", \"detail\": \"{detail}\", \"verdict\": \"FAIL\"}}";
        var scenarios = new List<string> { Scenario("replay-streams", replayDetail) };
        if (engineDetail is not null)
        {
            scenarios.Add(Scenario("engine-roundtrip", engineDetail));
        }
        File.WriteAllText(Path.Combine(dir, "results.json"), "{\"xen\": \"x\", \"scenarios\": [" + string.Join(", ", scenarios) + "]}");
        File.WriteAllText(Path.Combine(dir, "boot-2", "serial.log"),
            "(XEN) HVM4 restore: CPU 0\n(XEN) HVM restore mismatch: expected zeroextended type 5 length 24, saw type 5 length 32.\n" +
            "(XEN) HVM5 restore: failed to load entry 5/0 rc -22\n(XEN) HVM6 restore: CPU 0\n");
        foreach (var (name, text) in logs)
        {
            File.WriteAllText(Path.Combine(dir, "boot-2", "files", name), text);
        }
    }

    private static string[][] Rows(string outDir) =>
        File.ReadAllLines(Path.Combine(outDir, "cross.tsv")).Skip(1).Select(l => l.Split('\t')).ToArray();

    [BashPythonFact]
    public void Each_stream_gets_its_class_and_a_refusal_carries_xens_first_error_line()
    {
        string outDir = Directory.CreateTempSubdirectory("cross-table-").FullName;
        try
        {
            LabRun(Path.Combine(outDir, "on-4.17-1"),
                "save-pv.xl.zst\txen-4.20-save-pv.xl.zst\t4.20\t4.17\tsave\tpv\n" +
                "migrate-pvh.s2r.zst\txen-4.20-migrate-pvh.s2r.zst\t4.20\t4.17\tmigration\tpvh\n" +
                "remus-pvh.s2r.zst\txen-4.20-remus-pvh.s2r.zst\t4.20\t4.17\tremus\tpvh\n" +
                "save-hvm.xl.zst\txen-4.20-save-hvm.xl.zst\t4.20\t4.17\tsave\thvm\n" +
                "save-pvh.xl.zst\txen-4.20-save-pvh.xl.zst\t4.20\t4.17\tsave\tpvh\n",
                " save-pv:save,rc=0,2.6s,domain=pv1,alive=yes,judge=state=-b----,cpu=+0.2s/3.7s,console=+24B,ticks=+3,raw_rc=0()" +
                " migrate-pvh:migration,rc=1,1.9s,domain=-,alive=no,judge=" +
                " remus-pvh:remus,rc=124,600.0s,domain=-,alive=no,judge=" +
                " save-hvm:save,rc=139,0.4s,domain=-,alive=no,judge=,raw_rc=139(Segmentation_fault)",
                " engine-save-pv:rc=0,2.9s,alive=yes,tick=8,judge=state=-b----,cpu=+0.8s/5.6s,console=+24B,ticks=+3",
                new()
                {
                    ["log-replay-streams-migrate-pvh.txt"] =
                        "Parsing config\nxc: info: Found x86 PVH domain from Xen 4.20\n" +
                        "xc: error: Failed to read Record Header from stream (0 = Success): Internal error\n" +
                        "xc: error: Unable to restore HVM context (22 = Invalid argument): Internal error\n" +
                        "libxl: error: libxl_stream_read.c:850:libxl__xc_domain_restore_done: restoring domain: Invalid argument\n" +
                        "libxl: error: libxl_create.c:1640:domcreate_rebuild_done: Domain 5:cannot (re-)build domain: -3\n",
                },
                "xenlab: engine-roundtrip: the engine could not restore/save save-pvh.xl: HVM_CONTEXT at 1234: bad length \n");
            var (code, stdout, stderr) = RunCross(outDir);
            Assert.True(code == 1, $"exit {code}: {stdout}{stderr}");   // hung, crashed and no-result rows make it fail

            string[][] rows = Rows(outDir);
            string Result(string stream) => rows.Single(r => r[2] == stream)[5];
            Assert.Equal("alive", Result("xen-4.20-save-pv.xl.zst"));
            Assert.Equal("alive", Result("engine re-save of xen-4.20-save-pv.xl.zst"));
            Assert.Equal("refused", Result("xen-4.20-migrate-pvh.s2r.zst"));
            Assert.Equal("hung", Result("xen-4.20-remus-pvh.s2r.zst"));
            Assert.Equal("crashed", Result("xen-4.20-save-hvm.xl.zst"));
            Assert.Equal("no-result", Result("engine re-save of xen-4.20-save-hvm.xl.zst"));
            Assert.Equal("no-result", Result("xen-4.20-save-pvh.xl.zst"));   // the boot ended before its turn
            string[] engine = rows.Single(r => r[2] == "engine re-save of xen-4.20-save-pvh.xl.zst");
            Assert.Equal("not-handed-in", engine[5]);
            Assert.Equal("the engine could not restore/save it: HVM_CONTEXT at 1234: bad length", engine[8]);
            string[] refused = rows.Single(r => r[2] == "xen-4.20-migrate-pvh.s2r.zst");
            Assert.Equal(["4.20", "4.17", "migration", "pvh", "1", "1.9"], new[] { refused[0], refused[1], refused[3], refused[4], refused[6], refused[7] });
            // the end-of-stream line a Remus receiver always logs is passed over for the reason after it, and the
            // hypervisor's console lines for that domain (HVM5) are added
            Assert.Equal("xc: error: Unable to restore HVM context (22 = Invalid argument): Internal error; Xen's console: " +
                "(XEN) HVM restore mismatch: expected zeroextended type 5 length 24, saw type 5 length 32. " +
                "(XEN) HVM5 restore: failed to load entry 5/0 rc -22", refused[8]);
            Assert.Contains("load average 1.00 2.00 3.00 -> 4.00 5.00 6.00", File.ReadAllText(Path.Combine(outDir, "cross.md")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    [BashPythonFact]
    public void A_table_of_live_guests_and_clean_refusals_exits_zero()
    {
        string outDir = Directory.CreateTempSubdirectory("cross-table-").FullName;
        try
        {
            LabRun(Path.Combine(outDir, "on-4.20-1"),
                "migrate-pvh.s2r.zst\tmigrate-pvh.s2r.zst\t4.17\t4.20\tmigration\tpvh\n" +
                "remus-hvm.s2r.zst\tremus-hvm.s2r.zst\t4.17\t4.20\tremus\thvm\n",
                " migrate-pvh:migration,rc=0,2.2s,domain=pvh1,alive=yes,judge=state=-b----,cpu=+0.1s/2.2s,console=+34B" +
                " remus-hvm:remus,rc=1,9.0s,domain=-,alive=no,judge=",
                null,
                new() { ["log-replay-streams-remus-hvm.txt"] = "migration target: Domain creation failed (code -3)\n" });
            var (code, stdout, stderr) = RunCross(outDir);
            Assert.True(code == 0, $"exit {code}: {stdout}{stderr}");
            string[][] rows = Rows(outDir);
            Assert.Equal(["alive", "refused"], rows.Select(r => r[5]).ToArray());
            Assert.Equal("migration target: Domain creation failed (code -3)", rows[1][8]);
            Assert.Contains("cross.sh: 2 rows (1 alive, 1 refused)", stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }
}
