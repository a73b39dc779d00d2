using System.Diagnostics;
using System.Runtime.CompilerServices;
using StreamBench.Domain;
using StreamBench.Engine.Save;
using Xunit;
using Xunit.Abstractions;

namespace StreamBench.Tests.Engine;

/// <summary>
/// Every kind of stream the engine saves passes Xen's own verify-stream-v2 (tools/oracle). The oracle cannot read
/// checkpointed libxl streams (FORMATS.md 10), so Remus streams are checked as bare libxc ones.
/// </summary>
[Trait("Category", "Oracle")]
public sealed class EngineOracleTests(ITestOutputHelper output)
{
    private static string RepoRoot([CallerFilePath] string file = "") =>
        Environment.GetEnvironmentVariable("STREAMBENCH_REPO") is { Length: > 0 } repo
            ? repo
            : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", "..", ".."));

    private string? Oracle()
    {
        string wrapper = Path.Combine(RepoRoot(), "tools", "oracle", "verify-stream-v2");
        string ready = Path.Combine(RepoRoot(), "tools", "oracle", "READY");
        if (File.Exists(wrapper) && File.Exists(ready))
        {
            return wrapper;
        }

        if (Environment.GetEnvironmentVariable("STREAMBENCH_SKIP_ORACLE") == "1")
        {
            output.WriteLine("Xen's verify-stream-v2 is not installed and STREAMBENCH_SKIP_ORACLE=1: the oracle check was skipped.");
            return null;
        }

        Assert.Fail($"Xen's verify-stream-v2 oracle is not installed ({wrapper}, {ready}). Run tools/oracle/setup.sh, " +
            "or set STREAMBENCH_SKIP_ORACLE=1 to skip the oracle tests.");
        return null;
    }

    private static (int Rc, string Stderr) Run(string wrapper, string file, string format)
    {
        var psi = new ProcessStartInfo(wrapper) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-f");
        psi.ArgumentList.Add(format);
        psi.ArgumentList.Add("-i");
        psi.ArgumentList.Add(file);
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("verify-stream-v2 did not finish");
        }

        return (p.ExitCode, err.Result);
    }

    [Fact]
    public void Every_saved_stream_passes_verify_stream_v2()
    {
        if (Oracle() is not { } wrapper)
        {
            return;
        }

        var cases = new List<(string Name, GuestType Type, SaveOptions Options)>();
        foreach (GuestType type in new[] { GuestType.Pv, GuestType.Pv32, GuestType.Hvm, GuestType.Pvh })
        {
            cases.Add(($"{type}-libxc-v3", type, new SaveOptions { Format = SaveFormat.Libxc }));
            cases.Add(($"{type}-libxl-v2-live", type, new SaveOptions { Format = SaveFormat.Libxl, StreamVersion = 2, Live = true }));
            cases.Add(($"{type}-xl-live-verify", type, new SaveOptions { Format = SaveFormat.Xl, Live = true, VerifyMode = true }));
        }

        cases.Add(("pv-libxc-remus", GuestType.Pv, new SaveOptions { Live = true, Checkpoints = 2 }));
        cases.Add(("hvm-libxc-remus", GuestType.Hvm, new SaveOptions { Live = true, Checkpoints = 2 }));

        string dir = Path.Combine(Path.GetTempPath(), "sb-engine-oracle-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var failures = new List<string>();
            foreach ((string name, GuestType type, SaveOptions options) in cases)
            {
                using GuestDomain d = EngineTestSupport.Build(type);
                SaveOptions o = options.Live ? options with { Workload = EngineTestSupport.Live(d).Workload } : options;
                string file = Path.Combine(dir, name + ".bin");
                File.WriteAllBytes(file, EngineTestSupport.Save(d, o));
                (int rc, string stderr) = Run(wrapper, file, o.Format.ToString().ToLowerInvariant());
                output.WriteLine($"{name}: rc {rc}");
                if (rc != 0)
                {
                    failures.Add($"{name}: rc {rc}: {stderr.Trim().Split('\n').LastOrDefault()}");
                }
            }

            Assert.True(failures.Count == 0, string.Join("\n", failures));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
