using System.Diagnostics;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace StreamBench.Tests.Legacy;

/// <summary>
/// Xen's own convert-legacy-stream (tools/oracle) as a test oracle. <see cref="Ready"/> runs tools/oracle/setup.sh once;
/// when the oracle cannot be set up the test fails with the reason. With STREAMBENCH_SKIP_ORACLE=1 the tests are skipped
/// by their attributes ([OracleTheory], [OracleFact], [OracleProperty]), so a test that did not run is never counted as
/// passed.
/// The wrapper tools/oracle/convert-legacy-stream runs setup.sh on every call (about 0.3 s on a busy machine), so the
/// matrix calls the same Python script with the environment the wrapper would set (.cache/xen-oracle/env);
/// <see cref="RunWrapper"/> goes through the wrapper itself.
/// </summary>
internal static class LegacyOracle
{
    private static readonly Lazy<(string? Problem, Dictionary<string, string> Env)> State = new(Setup);

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Wrapper => Path.Combine(RepoRoot, "tools", "oracle", "convert-legacy-stream");

    private static string FindRepoRoot()
    {
        var forced = Environment.GetEnvironmentVariable("STREAMBENCH_REPO");
        if (!string.IsNullOrEmpty(forced))
        {
            return forced;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StreamBench.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("StreamBench.sln not found above " + AppContext.BaseDirectory);
    }

    private static (string? Problem, Dictionary<string, string> Env) Setup()
    {
        var env = new Dictionary<string, string>();
        var setup = Path.Combine(RepoRoot, "tools", "oracle", "setup.sh");
        if (!File.Exists(setup))
        {
            return ("tools/oracle/setup.sh is missing", env);
        }
        var (code, stdout, stderr) = Run("bash", [setup], null, TimeSpan.FromMinutes(5));
        if (code != 0)
        {
            return ($"tools/oracle/setup.sh exited {code}: {stderr.Trim()}", env);
        }
        foreach (var line in stdout.Split('\n'))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (line.StartsWith("XEN_ORACLE_", StringComparison.Ordinal) && eq > 0)
            {
                env[line[..eq]] = line[(eq + 1)..].Trim();
            }
        }
        foreach (var key in new[] { "XEN_ORACLE_PYTHONPATH", "XEN_ORACLE_CONVERT", "XEN_ORACLE_PYTHON" })
        {
            if (!env.ContainsKey(key))
            {
                return ($"tools/oracle/setup.sh did not print {key}", env);
            }
        }
        return (null, env);
    }

    /// <summary>True when the oracle can be used; false (after writing why) when the test should skip.</summary>
    public static bool Ready(ITestOutputHelper output)
    {
        var problem = State.Value.Problem;
        if (problem is null)
        {
            return true;
        }
        if (Environment.GetEnvironmentVariable("STREAMBENCH_SKIP_ORACLE") == "1")
        {
            output.WriteLine("SKIPPED (oracle unavailable, STREAMBENCH_SKIP_ORACLE=1): " + problem);
            return false;
        }
        Assert.Fail("Xen's convert-legacy-stream oracle is unavailable: " + problem
            + ". Run tools/oracle/setup.sh (needs apt-get/dpkg and python3), or set STREAMBENCH_SKIP_ORACLE=1 to skip oracle tests.");
        return false;
    }

    /// <summary>The result of one oracle run.</summary>
    public sealed record Outcome(int ExitCode, byte[] Output, string Stdout, string Stderr);

    /// <summary>
    /// Runs convert-legacy-stream over <paramref name="input"/> with <paramref name="args"/> (without -i/-o).
    /// <paramref name="fixXlMagic"/> runs it with xl.MAGIC as bytes, i.e. with its Python 3 bug in -x fixed.
    /// </summary>
    public static Outcome Convert(byte[] input, IReadOnlyList<string> args, bool fixXlMagic = false)
    {
        var env = State.Value.Env;
        var dir = Directory.CreateTempSubdirectory("legacy-oracle-");
        try
        {
            var inPath = Path.Combine(dir.FullName, "in");
            var outPath = Path.Combine(dir.FullName, "out");
            File.WriteAllBytes(inPath, input);
            var script = env["XEN_ORACLE_CONVERT"];
            var all = new List<string>();
            if (fixXlMagic)
            {
                all.Add("-c");
                all.Add("import runpy, sys; import xen.migration.xl as xl; xl.MAGIC = xl.MAGIC.encode('latin-1'); "
                    + "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')");
            }
            all.Add(script);
            all.AddRange(["-i", inPath, "-o", outPath]);
            all.AddRange(args);
            var (code, stdout, stderr) = Run(env["XEN_ORACLE_PYTHON"], all, new() { ["PYTHONPATH"] = env["XEN_ORACLE_PYTHONPATH"] }, TimeSpan.FromMinutes(2));
            var output = File.Exists(outPath) ? File.ReadAllBytes(outPath) : [];
            return new Outcome(code, output, stdout, stderr);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Runs tools/oracle/convert-legacy-stream itself (the wrapper).</summary>
    public static Outcome RunWrapper(byte[] input, IReadOnlyList<string> args)
    {
        var dir = Directory.CreateTempSubdirectory("legacy-oracle-");
        try
        {
            var inPath = Path.Combine(dir.FullName, "in");
            var outPath = Path.Combine(dir.FullName, "out");
            File.WriteAllBytes(inPath, input);
            var (code, stdout, stderr) = Run("bash", [Wrapper, "-i", inPath, "-o", outPath, .. args], null, TimeSpan.FromMinutes(2));
            return new Outcome(code, File.Exists(outPath) ? File.ReadAllBytes(outPath) : [], stdout, stderr);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, Dictionary<string, string>? env, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        if (env is not null)
        {
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in {timeout}");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
