using System.Diagnostics;
using StreamBench.Tests.Legacy;
using Xunit;

namespace StreamBench.Tests.Toolstack;

/// <summary>
/// tools/xenlab/mkfuzz.py (the real-restore scenario's mutant generator) without a boot: its own self-test (walk,
/// determinism per seed, the edits it reaches, --apply, --reduce, --collect, --check-findings on a synthetic stream),
/// and runner.sh's in-place apply/undo (fuzz_apply, fuzz_undo) run by sh on that stream: the file fed to xl is the
/// mutant --apply writes, and the base is byte-identical again afterwards.
/// </summary>
public sealed class MkFuzzTests
{
    private static string XenLab => Path.Combine(LegacyOracle.RepoRoot, "tools", "xenlab");

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in 2 minutes");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [BashPythonFact]
    public void SelfTestPasses()
    {
        (int code, string output) = Run("python3", Path.Combine(XenLab, "mkfuzz.py"), "--self-test");
        Assert.True(code == 0, output);
        Assert.Contains("mkfuzz self-test: ok", output, StringComparison.Ordinal);
    }

    [BashPythonFact]
    public void RunnerAppliesEachSpecInPlaceAndRestoresTheBase()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mkfuzz-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            // the runner's functions, pointed at this folder instead of dom0's /in/streams and /tmp
            string runner = File.ReadAllText(Path.Combine(XenLab, "runner.sh"));
            int from = runner.IndexOf("hexpoke() {", StringComparison.Ordinal);
            int to = runner.IndexOf("domlist() {", StringComparison.Ordinal);
            Assert.True(from > 0 && to > from, "runner.sh has no hexpoke..fuzz_undo block");
            string fns = runner[from..to].Replace("/tmp/", dir + "/tmp/", StringComparison.Ordinal)
                .Replace("/in/streams", dir + "/streams", StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(dir, "fn.sh"), fns);
            string script = $$"""
                set -e
                cd '{{dir}}'; mkdir -p streams specs tmp
                python3 - '{{XenLab}}' <<'PY'
                import sys; sys.path.insert(0, sys.argv[1]); import mkfuzz
                open("streams/syn.xl", "wb").write(mkfuzz.synthetic())
                mkfuzz.generate(["streams/syn.xl"], 24, 11, "specs")
                PY
                . ./fn.sh
                orig=$(sha256sum streams/syn.xl | cut -c1-64); n=0; cuts=0
                for f in specs/*.bad; do
                  fuzz_apply $f
                  got=$(sha256sum $FUZZIN | cut -c1-64)
                  python3 '{{XenLab}}/mkfuzz.py' --apply $f streams want.bin > /dev/null
                  want=$(sha256sum want.bin | cut -c1-64)
                  fuzz_undo
                  now=$(sha256sum streams/syn.xl | cut -c1-64)
                  [ "$got" = "$want" ] || { echo "MUTANT MISMATCH $f"; exit 3; }
                  [ "$now" = "$orig" ] || { echo "BASE NOT RESTORED after $f"; exit 4; }
                  grep -q '^truncate' $f && cuts=$((cuts + 1))
                  n=$((n + 1))
                done
                echo "applied $n specs ($cuts truncations)"
                """;
            (int code, string output) = Run("bash", "-c", script);
            Assert.True(code == 0, output);
            Assert.Contains("applied 24 specs", output, StringComparison.Ordinal);
            Assert.DoesNotContain("(0 truncations)", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
