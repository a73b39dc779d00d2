using System.Diagnostics;

namespace StreamBench.Fuzz.Tests;

/// <summary>
/// The structure-aware mutator (fuzz/mutators/xen_mutator.py) keeps the properties issue 20's work relies on: where a
/// mutant changed its parent, more and focused mutants for an entry it produced, a fresh queue entry mutated at once,
/// consistent capture chunk framing, legacy chunks inserted at chunk boundaries and a field of a chunk of a later
/// checkpoint that is not 4-aligned written (its <c>--self-test</c>).
/// </summary>
public sealed class MutatorTests
{
    [PythonFact]
    public void SelfTestPasses()
    {
        string? root = null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "fuzz", "mutators", "xen_mutator.py")))
            {
                root = d.FullName;
                break;
            }
        }
        Assert.NotNull(root);
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(root, "fuzz", "mutators", "xen_mutator.py"));
        psi.ArgumentList.Add("--self-test");
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        psi.Environment.Remove("XEN_MUTATOR_DICT");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stdout.Result + stderr);
        Assert.Contains("self-test: ok", stdout.Result, StringComparison.Ordinal);
    }
}
